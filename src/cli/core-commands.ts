// The core commands of CLI.md (the rest: report-, reconcile- and access-commands.ts). Each
// opens only what it needs and closes it again.
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { limits } from '../limits.ts';
import { generateEventStream } from '../generator/index.ts';
import { approverFor } from '../ledger/approval.ts';
import { checkpointsDir, readCheckpointFiles, writeCheckpoint } from '../integrity/checkpoints.ts';
import { verifyLedger } from '../integrity/verify.ts';
import { recordVerification } from '../integrity/verify-runs.ts';
import { publishFile } from '../log/publish.ts';
import { defaultServiceRole, rolesSql } from '../db/service-login.ts';
import { calendarMonth } from '../reports/params.ts';
import { loadSigningKey, readSigningKey, signingKeyFile } from '../signing/keys.ts';
import { rotateSigningKey, signingKeyForLedger } from '../signing/ledger-key.ts';
import { loadTrustedKeys } from '../signing/trust.ts';
import type { Command, CommandResult, ParsedArgs } from './main.ts';
import { withApplication } from '../app/application.ts';
import { terminalProgress } from '../observability/progress-stderr.ts';

const string = { type: 'string' } as const;
const boolean = { type: 'boolean' } as const;

function wholeNumber(flag: string, value: string | boolean | undefined, min: number, max: number): number {
  const parsed = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new UserError('bad_flag', `${flag} ${JSON.stringify(value ?? '')} is not a whole number from ${min} to ${max}`);
  }
  return parsed;
}

function month(flag: string, value: string | boolean | undefined): string {
  const parsed = typeof value === 'string' ? calendarMonth(value) : null;
  if (typeof value !== 'string' || parsed === null || typeof parsed === 'string') {
    throw new UserError('bad_flag', `${flag} ${JSON.stringify(value ?? '')} is not a month (YYYY-MM)` +
      (typeof parsed === 'string' ? `: ${parsed}` : ''));
  }
  return value;
}


const migrateCommand: Command = {
  usage: 'ledger migrate [--print-roles-sql] [--json]',
  options: { 'print-roles-sql': boolean },
  positionals: 0,
  async run({ values, config }) {
    if (values['print-roles-sql'] === true) return printRolesSql(config);
    return withApplication(config, { migrate: true }, async (ledger) => {
      const result = ledger.db.migration ?? { applied: [] };
      return { json: { ...result, service_role: ledger.db.serviceRole }, text: result.applied.length === 0
        ? `schema is up to date; the service logs in as ${ledger.db.serviceRole}`
        : `applied ${result.applied.join(', ')}; the service logs in as ${ledger.db.serviceRole}` };
    });
  },
};

/** The roles a DBA creates once for DATABASE_URL, named from it (no connection is made). */
function printRolesSql(config: ParsedArgs['config']): CommandResult {
  const url = config.databaseUrl === null ? null : new URL(config.databaseUrl);
  const database = url === null ? 'ledger' : decodeURIComponent(url.pathname.replace(/^\//, '')) || 'ledger';
  const owner = url === null || url.username === '' ? 'ledger_owner' : decodeURIComponent(url.username);
  const sql = rolesSql(database, owner, config.databaseRole ?? defaultServiceRole(database));
  return { json: { sql }, text: sql.trimEnd() };
}

const generateCommand: Command = {
  usage: 'ledger events generate --seed N --rentals N --month YYYY-MM [--out FILE] [--bad] [--json]',
  options: { seed: string, rentals: string, month: string, out: string, bad: boolean },
  positionals: 0,
  async run({ values, config }) {
    const seed = wholeNumber('--seed', values.seed, 0, 2 ** 31 - 1);
    const rentals = wholeNumber('--rentals', values.rentals, 1, 2_000_000);
    const period = month('--month', values.month);
    const file = path.resolve(typeof values.out === 'string' ? values.out : `events-${period}-seed${seed}.ndjson`);
    // The demo's adjustments are approved with this ledger's own key, so that it posts them.
    const approve = approverFor(await loadSigningKey(config.dataDir, config.signingKeyPem));
    const lines = generateEventStream({ seed, rentals, month: period, badMessages: values.bad === true, approve });
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    return { json: { events: lines.length, file }, text: `wrote ${lines.length} events to ${file}` };
  },
};

const publishCommand: Command = {
  usage: 'ledger events publish FILE [--json]',
  options: {},
  positionals: 1,
  async run({ positionals, config, values }) {
    const { openLog } = await import('../log/open.ts');
    const log = await openLog(config);
    const progress = terminalProgress('publishing', 'lines', { json: values.json === true });
    try {
      const topic = config.topics[0] as string;
      const result = await publishFile(log.producer, topic, log.newTopicPartitions, positionals[0] as string,
        progress === null ? undefined : (read, total) => progress.update(read, total));
      return { json: result, text: `published ${result.published} lines of ${positionals[0]} to ${topic}` };
    } finally {
      progress?.finish();
      await log.producer.close();
    }
  },
};

const projectCommand: Command = {
  usage: 'ledger project [--follow] [--json]',
  options: { follow: boolean },
  positionals: 0,
  run: ({ values, config }) => withApplication(config, {}, async (ledger) => {
    const result = await ledger.project({ follow: values.follow === true, progress: values.json === true ? 'none' : 'terminal' });
    return {
      json: result,
      text: `posted ${result.posted}, duplicates ${result.duplicates}, quarantined ${result.quarantined}`,
    };
  }),
};

const quarantineListCommand: Command = {
  usage: 'ledger quarantine list [--limit N] [--json]',
  options: { limit: string },
  positionals: 0,
  run: ({ values, config }) => withApplication(config, {}, async (ledger) => {
    const limit = values.limit === undefined ? limits.pageRowsMax
      : wholeNumber('--limit', values.limit, 1, limits.pageRowsMax);
    const rows = await ledger.db.pool.query<{
      topic: string; partition: number; offset: string; reason: string; message: string; event_id: string | null;
    }>(`SELECT topic, partition, "offset", reason, message, event_id FROM ledger.quarantine
         ORDER BY topic, partition, "offset" LIMIT $1`, [limit]);
    const items = rows.rows.map((r) => ({ ...r, offset: Number(r.offset) }));
    const text = items.map((i) => `${i.topic}/${i.partition}@${i.offset} ${i.reason}: ${i.message}`).join('\n');
    return { json: { items }, text: text || 'no quarantined messages' };
  }),
};

/**
 * Trusts only pinned keys (trust.ts): the service's own (never created here: an auditor's
 * machine may have none), the data dir's retired ones, LEDGER_TRUSTED_KEYS.
 */
const verifyCommand: Command = {
  usage: 'ledger verify [--checkpoints DIR] [--json]',
  options: { checkpoints: string },
  positionals: 0,
  run: async ({ values, config }) => {
    const trusted = await loadTrustedKeys(config, await readSigningKey(config.dataDir, config.signingKeyPem));
    return withApplication(config, {}, async (ledger) => {
      const dir = values.checkpoints;
      const exported = typeof dir === 'string'
        ? (await readCheckpointFiles(dir).catch(() => {
          throw new UserError('bad_flag', `--checkpoints ${dir}: cannot read checkpoint files there`);
        })).map((f) => f.file)
        : undefined;
      const progress = terminalProgress('verifying', 'entries', { json: values.json === true });
      const report = await verifyLedger(ledger.db.pool, {
        trusted, checkpointsDir: checkpointsDir(config.dataDir),
        ...exported === undefined ? {} : { exportedCheckpoints: exported },
        ...progress === null ? {} : { onProgress: (done: number, total: number) => progress.update(done, total) },
      }).finally(() => progress?.finish());
      // Kept for the web pages' verification page; a login that may only read keeps nothing, and is told.
      const unkept = await recordVerification(ledger.db.pool, report, exported !== undefined, new Date());
      const text = report.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n') +
        (unkept === null ? '' : `\n(result not kept in the database: ${unkept})`);
      return { json: report, text, exitCode: report.ok ? 0 : 1 };
    });
  },
};

const keysExportCommand: Command = {
  usage: 'ledger keys export [--out FILE] [--json]',
  options: { out: string },
  positionals: 0,
  async run({ values, config }) {
    // Never creates a key: a new key for a ledger that has signed is `ledger keys rotate`'s to make.
    const key = await readSigningKey(config.dataDir, config.signingKeyPem);
    if (key === null) {
      throw new UserError('no_signing_key', `no signing key in ${signingKeyFile(config.dataDir)} yet: the ledger's ` +
        'first start makes one (`ledger project` or `npm start`); after a lost key, restore it or run `ledger keys rotate`');
    }
    const file = path.resolve(typeof values.out === 'string' ? values.out : `ledger-public-key-${key.keyId}.pem`);
    await writeFile(file, key.publicKeyPem);
    return { json: { files: [file], key_id: key.keyId }, text: `public key ${key.keyId} written to ${file}` };
  },
};

const keysRotateCommand: Command = {
  usage: 'ledger keys rotate [--json]',
  options: {},
  positionals: 0,
  run: ({ config }) => withApplication(config, {}, async (ledger) => {
    const rotation = await rotateSigningKey(ledger.db.pool, config, `cli:${process.env.USER ?? 'operator'}`,
      new Date());
    const before = rotation.previous_key === 'retired'
      ? `key ${rotation.previous_key_id} is retired; its public key ${rotation.retired_file} stays trusted`
      : rotation.previous_key === 'replaced'
        ? `what key ${rotation.signed_before.join(', ') || '(none)'} signed verifies only once its public key is ` +
          'in LEDGER_TRUSTED_KEYS'
        : 'nothing had been signed before';
    return { json: rotation, text: `signing key ${rotation.key_id} from now on; ${before}` };
  }),
};

const checkpointCommand: Command = {
  usage: 'ledger checkpoint [--json]',
  options: {},
  positionals: 0,
  run: ({ config }) => withApplication(config, {}, async (ledger) => {
    const key = await signingKeyForLedger(ledger.db.pool, config);
    const file = await writeCheckpoint(ledger.db.pool, key, config.dataDir, new Date());
    return {
      json: { checkpoint_id: file?.checkpoint_id ?? null, merkle_root: file?.body.merkle_root ?? null },
      text: file === null ? 'nothing new since the last checkpoint' : `checkpoint ${file.checkpoint_id} written`,
    };
  }),
};

const serveCommand: Command = {
  usage: 'ledger serve [--demo | --no-demo]',
  options: { demo: { type: 'boolean' }, 'no-demo': { type: 'boolean' } },
  positionals: 0,
  async run({ config, values }): Promise<CommandResult> {
    const { serve } = await import('./serve.ts'); // the HTTP stack is loaded by the one command that serves
    await serve(config, { demo: values.demo === true, noDemo: values['no-demo'] === true });
    return { json: {}, text: '' };
  },
};

export const coreCommands: Record<string, Command> = {
  serve: serveCommand,
  migrate: migrateCommand,
  'events generate': generateCommand,
  'events publish': publishCommand,
  project: projectCommand,
  'quarantine list': quarantineListCommand,
  verify: verifyCommand,
  'keys export': keysExportCommand,
  'keys rotate': keysRotateCommand,
  checkpoint: checkpointCommand,
};
