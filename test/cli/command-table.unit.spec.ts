// The command names main.ts knows without loading any command's module are exactly the
// commands the modules define: a command added to a module but not to the list (or the
// other way round) fails here, not in an operator's script.
import { describe, expect, it } from 'vitest';
import { commandNames, loadAllCommandTables } from '../../src/cli/commands.ts';

describe('the command table', () => {
  it('names exactly the commands its modules define, once each', async () => {
    const defined = (await loadAllCommandTables()).flatMap((table) => Object.keys(table));
    expect([...commandNames].sort()).toEqual([...defined].sort());
    expect(new Set(commandNames).size).toBe(commandNames.length);
  });
});
