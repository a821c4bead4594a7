// The `ledger` executable (CLI.md). Each command parses its flags strictly (an unknown or
// malformed flag is a one-line error), opens what it needs, and with --json prints exactly
// one JSON object on stdout. A user's mistake exits 2 with one line on stderr; a failed
// verification or reconciliation exits 1; a bug exits 70 with its stack.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isUserError, UserError } from '../errors.ts';
import { loadConfig } from '../config.ts';
import { commands } from './commands.ts';

export type CommandResult = { json: unknown; text: string; exitCode?: number };
export type Command = {
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly positionals: number;
  run(args: ParsedArgs): Promise<CommandResult>;
};
export type ParsedArgs = {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  config: ReturnType<typeof loadConfig>;
};

function findCommand(argv: string[]): { name: string; command: Command; rest: string[] } {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = commands[name];
    if (command !== undefined && argv.length >= words) return { name, command, rest: argv.slice(words) };
  }
  const given = argv.slice(0, 2).join(' ') || '(none)';
  throw new UserError('bad_command', `unknown command ${JSON.stringify(given)}; commands: ` +
    Object.keys(commands).join(', '));
}

function parse(name: string, command: Command, rest: string[]) {
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...command.options, json: { type: 'boolean' } },
      allowPositionals: command.positionals > 0,
      strict: true,
    });
    if (parsed.positionals.length !== command.positionals) {
      throw new Error(`expects ${command.positionals} argument(s)`);
    }
    return parsed;
  } catch (error) {
    throw new UserError('bad_flag', `ledger ${name}: ${(error as Error).message.split('\n')[0]}; usage: ${command.usage}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  let json = argv.includes('--json');
  try {
    const { name, command, rest } = findCommand(argv);
    const parsed = parse(name, command, rest);
    json = parsed.values.json === true;
    const result = await command.run({ values: parsed.values, positionals: parsed.positionals, config: loadConfig() });
    process.stdout.write(json ? `${JSON.stringify(result.json)}\n` : result.text.length > 0 ? `${result.text}\n` : '');
    return result.exitCode ?? 0;
  } catch (error) {
    if (isUserError(error)) {
      process.stderr.write(`ledger: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.stack ?? error.message : String(error);
    process.stderr.write(`ledger: internal error (a bug; please report it): ${message}\n`);
    return 70;
  }
}

const exitCode = await main(process.argv.slice(2));
// Flush stdout before exiting: a piped --json reader must get the whole object.
process.stdout.write('', () => process.exit(exitCode));
