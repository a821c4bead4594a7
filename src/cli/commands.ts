// The commands of CLI.md. Each opens only what it needs and closes it again.
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { limits } from '../limits.ts';
import { generateEventStream } from '../generator/index.ts';
import { approverFor } from '../ledger/approval.ts';
import { readCheckpointFiles, writeCheckpoint } from '../integrity/checkpoints.ts';
import { verifyLedger } from '../integrity/verify.ts';
import { publishFile } from '../log/publish.ts';
import { loadSigningKey } from '../signing/keys.ts';
import type { Command, CommandResult, ParsedArgs } from './main.ts';
import { openLedger, projectOnce, withLedger } from './context.ts';
import { serve } from './serve.ts';
import { reconcileCommand, resolveBreakCommand } from './reconcile-command.ts';
import { reportCommands } from './report-commands.ts';

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
  if (typeof value !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(value)) {
    throw new UserError('bad_flag', `${flag} ${JSON.stringify(value ?? '')} is not a month (YYYY-MM)`);
  }
  return value;
}


const migrateCommand: Command = {
  usage: 'ledger migrate [--json]',
  options: {},
  positionals: 0,
  run: ({ config }) => withLedger(config, { migrate: false }, async (ledger) => {
    const result = await ledger.migrate();
    return { json: result, text: result.applied.length === 0 ? 'schema is up to date'
      : `applied ${result.applied.join(', ')}` };
  }),
};

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
  async run({ positionals, config }) {
    const { openLog } = await import('../log/open.ts');
    const log = await openLog(config);
    try {
      const topic = config.topics[0] as string;
      const result = await publishFile(log.producer, topic, log.newTopicPartitions, positionals[0] as string);
      return { json: result, text: `published ${result.published} messages to ${topic}` };
    } finally {
      await log.producer.close();
    }
  },
};

const projectCommand: Command = {
  usage: 'ledger project [--follow] [--json]',
  options: { follow: boolean },
  positionals: 0,
  run: ({ values, config }) => withLedger(config, {}, async (ledger) => {
    const result = await projectOnce(ledger, { follow: values.follow === true, progress: values.json !== true });
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
  run: ({ values, config }) => withLedger(config, {}, async (ledger) => {
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

const verifyCommand: Command = {
  usage: 'ledger verify [--checkpoints DIR] [--json]',
  options: { checkpoints: string },
  positionals: 0,
  run: ({ values, config }) => withLedger(config, {}, async (ledger) => {
    const dir = values.checkpoints;
    const exported = typeof dir === 'string'
      ? (await readCheckpointFiles(dir).catch(() => {
        throw new UserError('bad_flag', `--checkpoints ${dir}: cannot read checkpoint files there`);
      })).map((f) => f.file)
      : undefined;
    const report = await verifyLedger(ledger.db.pool, exported === undefined ? {} : { exportedCheckpoints: exported });
    const text = report.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n');
    return { json: report, text, exitCode: report.ok ? 0 : 1 };
  }),
};

const keysExportCommand: Command = {
  usage: 'ledger keys export [--out FILE] [--json]',
  options: { out: string },
  positionals: 0,
  async run({ values, config }) {
    const key = await loadSigningKey(config.dataDir, config.signingKeyPem);
    const file = path.resolve(typeof values.out === 'string' ? values.out : `ledger-public-key-${key.keyId}.pem`);
    await writeFile(file, key.publicKeyPem);
    return { json: { files: [file], key_id: key.keyId }, text: `public key ${key.keyId} written to ${file}` };
  },
};

const checkpointCommand: Command = {
  usage: 'ledger checkpoint [--json]',
  options: {},
  positionals: 0,
  run: ({ config }) => withLedger(config, {}, async (ledger) => {
    const key = await loadSigningKey(config.dataDir, config.signingKeyPem);
    const file = await writeCheckpoint(ledger.db.pool, key, config.dataDir, new Date());
    return {
      json: { checkpoint_id: file?.checkpoint_id ?? null, merkle_root: file?.body.merkle_root ?? null },
      text: file === null ? 'nothing new since the last checkpoint' : `checkpoint ${file.checkpoint_id} written`,
    };
  }),
};

const serveCommand: Command = {
  usage: 'ledger serve',
  options: {},
  positionals: 0,
  async run({ config }): Promise<CommandResult> {
    await serve(config);
    return { json: {}, text: '' };
  },
};

export const commands: Record<string, Command> = {
  serve: serveCommand,
  migrate: migrateCommand,
  'events generate': generateCommand,
  'events publish': publishCommand,
  project: projectCommand,
  'quarantine list': quarantineListCommand,
  verify: verifyCommand,
  ...reportCommands,
  'keys export': keysExportCommand,
  checkpoint: checkpointCommand,
  reconcile: reconcileCommand,
  'reconcile resolve': resolveBreakCommand,
};

export type { ParsedArgs };
export { openLedger };
