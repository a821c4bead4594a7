// Every command's name, and where it lives. A command's module is loaded only when that
// command runs: `ledger access roles` need not load the HTTP stack, the xlsx and pdf
// writers and the Kafka client (about a second and a half of CPU on every start here).
// A unit test holds these names equal to the modules' own tables.
import type { Command } from './main.ts';

type Table = Record<string, Command>;

const modules: ReadonlyArray<readonly [readonly string[], () => Promise<Table>]> = [
  [['serve', 'migrate', 'events generate', 'events publish', 'project', 'quarantine list', 'verify', 'keys export',
    'keys rotate', 'checkpoint'], () => import('./core-commands.ts').then((m) => m.coreCommands)],
  [['report run', 'report list', 'report show', 'report render', 'report verify', 'lineage', 'period close'],
    () => import('./report-commands.ts').then((m) => m.reportCommands)],
  [['reconcile', 'reconcile resolve'], () => import('./reconcile-command.ts').then((m) => m.reconcileCommands)],
  [['access bootstrap', 'access users', 'access grant', 'access approve', 'access revoke', 'access token',
    'access roles', 'access review'], () => import('./access-commands.ts').then((m) => m.accessCommands)],
];

export const commandNames: readonly string[] = modules.flatMap(([names]) => names);

/** The command of that name, its module loaded now. */
export async function loadCommand(name: string): Promise<Command> {
  const entry = modules.find(([names]) => names.includes(name));
  if (entry === undefined) throw new Error(`invariant violated: no module for command ${name}`);
  const command = (await entry[1]())[name];
  if (command === undefined) throw new Error(`invariant violated: ${name} is not in its module's table`);
  return command;
}

/** Every module's table, for the test that holds the names above equal to them. */
export async function loadAllCommandTables(): Promise<Table[]> {
  return Promise.all(modules.map(([, load]) => load()));
}
