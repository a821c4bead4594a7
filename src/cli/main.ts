// The `ledger` executable (CLI.md). Each command parses its flags strictly (an unknown or
// malformed flag is a one-line error), opens what it needs, and with --json prints exactly
// one JSON object on stdout. A user's mistake exits 2 with one line on stderr; a failed
// verification or reconciliation exits 1; a bug exits 70 with its stack.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isUserError, UserError } from '../errors.ts';
import { loadConfig, type Config } from '../config.ts';
import { redactUrl } from '../db/database.ts';
import { commandNames, loadCommand } from './commands.ts';
import { ensureWritableDataDir, fileSystemUserError } from './data-dir.ts';

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

async function findCommand(argv: string[]): Promise<{ name: string; command: Command; rest: string[] }> {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    if (commandNames.includes(name) && argv.length >= words) {
      return { name, command: await loadCommand(name), rest: argv.slice(words) };
    }
  }
  const given = argv.slice(0, 2).join(' ') || '(none)';
  throw new UserError('bad_command', `unknown command ${JSON.stringify(given)}; commands: ` + commandNames.join(', '));
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

/**
 * Whether a command writes under LEDGER_DATA_DIR with this configuration; if so, the
 * directory is made and proved writable before the command starts, so that a read-only
 * one stops it before it records anything (a checkpoint, a report or reconciliation run)
 * whose file it then could not write. A command that only reads there (`keys export` of
 * an existing key) is not stopped; a refusal it meets still gets one line (data-dir.ts).
 */
function writesDataDir(name: string, values: ParsedArgs['values'], config: Config): boolean {
  if (name === 'events generate' || name === 'report verify' || name === 'access roles') return false; // no data dir at all
  if (name === 'keys export') return false; // reads the key; creates it only when there is none
  if (config.databaseUrl === null) return true; // the embedded server keeps its data there
  switch (name) {
    case 'events publish': return config.kafkaBrokers === null;
    case 'serve': case 'project': case 'checkpoint': case 'report run': case 'reconcile': case 'keys rotate':
    case 'access review': return true;
    case 'report render': return values.out === undefined;
    default: return false;
  }
}

export async function main(argv: string[]): Promise<number> {
  let json = argv.includes('--json');
  let dataDir: string | null = null;
  try {
    const { name, command, rest } = await findCommand(argv);
    const parsed = parse(name, command, rest);
    json = parsed.values.json === true;
    const config = loadConfig();
    dataDir = config.dataDir;
    if (writesDataDir(name, parsed.values, config)) await ensureWritableDataDir(config.dataDir);
    const result = await command.run({ values: parsed.values, positionals: parsed.positionals, config });
    process.stdout.write(json ? `${JSON.stringify(result.json)}\n` : result.text.length > 0 ? `${result.text}\n` : '');
    return result.exitCode ?? 0;
  } catch (caught) {
    const error = isUserError(caught) ? caught : fileSystemUserError(caught, dataDir) ?? caught;
    if (isUserError(error)) {
      // A mistake that still has a result (lines published before a stop) prints it with --json.
      const result = (error as { result?: unknown }).result;
      if (json && result !== undefined) process.stdout.write(`${JSON.stringify(result)}\n`);
      process.stderr.write(`ledger: ${redactUrl(error.message.replace(/\s*\n\s*/g, ' '))}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.stack ?? error.message : String(error);
    process.stderr.write(`ledger: internal error (a bug; please report it): ${redactUrl(message)}\n`);
    return 70;
  }
}

const exitCode = await main(process.argv.slice(2));
// Flush stdout before exiting: a piped --json reader must get the whole object.
process.stdout.write('', () => process.exit(exitCode));
