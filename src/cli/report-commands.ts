// `ledger report run | list | show | render | verify`, `ledger lineage`, `ledger period close`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { limits } from '../limits.ts';
import { sha256Hex } from '../ledger/canonical.ts';
import { closePeriod } from '../reports/periods.ts';
import { figureLineage, type LineageLine } from '../reports/lineage.ts';
import { checkFileAgainstManifest, manifestFileFrom } from '../reports/manifest.ts';
import { reportFormats, type ReportFormat } from '../reports/render/types.ts';
import { checkRunParams, createRun, listRuns, loadRun, renderStoredRun } from '../reports/runs.ts';
import type { RequestedParams } from '../reports/params.ts';
import { keyIdOf, readSigningKey } from '../signing/keys.ts';
import { loadTrustedKeys, readPublicKey, type TrustedKeys } from '../signing/trust.ts';
import type { Config } from '../config.ts';
import type { Command, CommandResult, ParsedArgs } from './main.ts';
import { withApplication, type Application } from '../app/application.ts';
import { terminalProgress } from '../observability/progress-stderr.ts';

const string = { type: 'string' } as const;

function formatsFrom(value: string | boolean | undefined): ReportFormat[] {
  if (typeof value !== 'string') return [...reportFormats];
  const formats = value.split(',').map((f) => f.trim());
  for (const format of formats) {
    if (!(reportFormats as readonly string[]).includes(format)) {
      throw new UserError('bad_flag', `--format ${JSON.stringify(format)} is not one of ${reportFormats.join(', ')}`);
    }
  }
  return formats as ReportFormat[];
}

function outDir(config: Config, value: string | boolean | undefined, runId: string | null): string | undefined {
  if (typeof value === 'string') return path.resolve(value);
  return runId === null ? undefined : path.join(config.dataDir, 'reports', runId);
}

const runCommand: Command = {
  usage: 'ledger report run NAME [--period YYYY-MM] [--as-of TS] [--year YYYY] [--min-amount A] ' +
    '[--min-transactions N] [--currency USD|CAD] [--market M] [--format json,csv,xlsx,pdf] [--out DIR] [--json]',
  options: { period: string, 'as-of': string, year: string, 'min-amount': string, 'min-transactions': string,
    currency: string, market: string, format: string, out: string },
  positionals: 1,
  async run({ values, positionals, config }) {
    const params = {
      period: values.period as string | undefined, as_of: values['as-of'] as string | undefined,
      year: values.year as string | undefined, min_amount: values['min-amount'] as string | undefined,
      min_transactions: values['min-transactions'] as string | undefined,
      currency: values.currency as string | undefined, market: values.market as string | undefined,
    };
    // The person's mistakes first, before anything is opened: an unknown report, a 30 February.
    await checkRunParams(positionals[0] as string, params);
    return withApplication(config, {}, (ledger) => runReport(ledger, values, positionals[0] as string, params));
  },
};

async function runReport(
  ledger: Application, values: ParsedArgs['values'], report: string, params: RequestedParams,
): Promise<CommandResult> {
  const formats = formatsFrom(values.format);
  const out = outDir(ledger.config, values.out, null);
  const progress = terminalProgress('rendering', 'rows', { json: values.json === true });
  const run = await createRun(await ledger.reportContext(), {
    report, params, requestedBy: `cli:${process.env.USER ?? 'operator'}`, now: new Date(),
    ...(out === undefined ? {} : { outDir: out }),
    ...(progress === null ? {} : { onProgress: (done: number, total: number) => progress.update(done, total) }),
  }).finally(() => progress?.finish());
  const files: Record<string, string> = {};
  for (const format of [...formats, 'manifest'] as const) {
    const file = run.files[format];
    if (file !== undefined) files[format] = file;
  }
  return { json: { run_id: run.run_id, files }, text: [`run ${run.run_id}`, ...Object.values(files)].join('\n') };
}

const listCommand: Command = {
  usage: 'ledger report list [--limit N] [--json]',
  options: { limit: string },
  positionals: 0,
  run: ({ values, config }) => withApplication(config, {}, async (ledger) => {
    const limit = typeof values.limit === 'string' ? Number(values.limit) : 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > limits.pageRowsMax) {
      throw new UserError('bad_flag', `--limit must be a whole number from 1 to ${limits.pageRowsMax}`);
    }
    const runs = await listRuns(ledger.db.pool, limit);
    const text = runs.map((r) => `${r.generated_at} ${r.run_id} ${r.report} ${JSON.stringify(r.params)} ` +
      `by ${r.requested_by}${r.supersedes === null ? '' : ` (supersedes ${r.supersedes})`}`).join('\n');
    return { json: { runs }, text: text || 'no report runs yet' };
  }),
};

const showCommand: Command = {
  usage: 'ledger report show RUN_ID [--json]',
  options: {},
  positionals: 1,
  run: ({ positionals, config }) => withApplication(config, {}, async (ledger) => {
    const run = await loadRun(ledger.db.pool, positionals[0] as string);
    const json = { ...run.header, files: run.files, figures: run.figures.map(({ id, key, dims, value }) =>
      ({ id, key, dims, value })) };
    const text = [`${run.header.title} — run ${run.header.run_id}`, `params ${JSON.stringify(run.header.params)}`,
      `watermark ${JSON.stringify(run.header.watermark)}`,
      ...Object.entries(run.files).map(([format, f]) => `${format}: ${f.name} sha256 ${f.sha256}`),
      ...run.figures.map((f) => `${f.id} ${f.key} ${JSON.stringify(f.dims)} ${f.value}`)].join('\n');
    return { json, text };
  }),
};

const renderCommand: Command = {
  usage: 'ledger report render RUN_ID [--format json,csv,xlsx,pdf] [--out DIR] [--json]',
  options: { format: string, out: string },
  positionals: 1,
  run: ({ values, positionals, config }) => withApplication(config, {}, async (ledger) => {
    const runId = positionals[0] as string;
    const rendered = await renderStoredRun(await ledger.reportContext(), runId,
      outDir(config, values.out, `${runId}-render`) as string, formatsFrom(values.format));
    return { json: rendered, text: Object.values(rendered.files).join('\n') };
  }),
};

/**
 * Offline: no database, no service; the file, its manifest, and the keys to trust: the
 * auditor's `--public-key`, else the trust list of this machine (trust.ts: the service's
 * key when it has one, retired keys, LEDGER_TRUSTED_KEYS). With none, it proves integrity
 * only, and says so.
 */
const verifyCommand: Command = {
  usage: 'ledger report verify FILE --manifest MANIFEST [--public-key KEY] [--json]',
  options: { manifest: string, 'public-key': string },
  positionals: 1,
  async run({ values, positionals, config }) {
    const file = positionals[0] as string;
    const read = (what: string, name: string) => readFile(name).catch(() => {
      throw new UserError('bad_file', `cannot read ${what} ${name}`);
    });
    const manifestPath = typeof values.manifest === 'string' ? values.manifest
      : (() => { throw new UserError('bad_flag', '--manifest is required'); })();
    const manifestText = (await read('manifest', manifestPath)).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(manifestText);
    } catch {
      throw new UserError('bad_file', `${manifestPath} is not a report manifest: not JSON`);
    }
    const manifest = manifestFileFrom(parsed, manifestPath);
    const trusted = await trustedForReportVerify(values['public-key'], config);
    const fileSha256 = sha256Hex(await read('file', file));
    const check = checkFileAgainstManifest(fileSha256, manifest, trusted);
    const note = check.origin === 'not checked'
      ? 'integrity only: the signature was checked with the public key inside the manifest, which whoever ' +
        'changed the manifest could have replaced; pass --public-key or set LEDGER_TRUSTED_KEYS to prove origin'
      : null;
    const json = { ok: check.ok, file_sha256: fileSha256, run_id: manifest.manifest.run.run_id, format: check.format,
      key_id: manifest.manifest.key_id, origin: check.origin, signed_by: check.signer, note,
      key_checked: check.origin !== 'not checked', reasons: check.reasons };
    const text = check.ok
      ? `ok: ${file} is the ${check.format} of run ${json.run_id}; ` +
        (note === null ? `origin proved: signed by trusted key ${check.signer}` : `origin not checked (${note})`)
      : `NOT OK: ${check.reasons.join('; ')}`;
    return { json, text, exitCode: check.ok ? 0 : 1 };
  },
};

async function trustedForReportVerify(publicKey: string | boolean | undefined, config: Config): Promise<TrustedKeys> {
  if (typeof publicKey === 'string') {
    const pem = await readPublicKey(path.resolve(publicKey), '--public-key');
    return { keys: [{ keyId: keyIdOf(pem), publicKeyPem: pem, source: publicKey }] };
  }
  return loadTrustedKeys(config, await readSigningKey(config.dataDir, config.signingKeyPem));
}

const lineageRowsMax = 1_000_000;

const lineageCommand: Command = {
  usage: 'ledger lineage FIGURE_ID [--limit N] [--cursor C] [--json]',
  options: { limit: string, cursor: string },
  positionals: 1,
  run: ({ values, positionals, config }) => withApplication(config, {}, async (ledger) => {
    const wanted = typeof values.limit === 'string' ? Number(values.limit) : lineageRowsMax;
    if (!Number.isSafeInteger(wanted) || wanted < 1 || wanted > lineageRowsMax) {
      throw new UserError('bad_flag', `--limit must be a whole number from 1 to ${lineageRowsMax}`);
    }
    const id = positionals[0] as string;
    let cursor = typeof values.cursor === 'string' ? values.cursor : null;
    const lines: LineageLine[] = [];
    let first = await figureLineage(ledger.db.pool, id, { limit: Math.min(wanted, limits.pageRowsMax), cursor });
    const result = first;
    lines.push(...first.lines);
    cursor = first.next_cursor;
    while (cursor !== null && lines.length < wanted) {
      first = await figureLineage(ledger.db.pool, id, { limit: Math.min(wanted - lines.length, limits.pageRowsMax), cursor });
      lines.push(...first.lines);
      cursor = first.next_cursor;
    }
    const json = { figure: result.figure, value: result.value, terms: result.terms, lines, sum: result.sum,
      next_cursor: cursor };
    const text = [`${result.figure.key} ${JSON.stringify(result.figure.dims)} = ${result.value} ` +
      `(run ${result.figure.run_id})`,
    ...lines.map((l) => `${l.entry_id} ${l.event_id} ${l.account ?? ''} ${l.side ?? ''} ${l.amount ?? ''} ` +
      `${l.currency ?? ''} ${l.topic}/${l.partition}@${l.offset} contributes ${l.contribution}`),
    `sum ${result.sum}${cursor === null ? '' : ` (more lines: --cursor ${cursor})`}`].join('\n');
    return { json, text };
  }),
};

const periodCloseCommand: Command = {
  usage: 'ledger period close YYYY-MM [--reason TEXT] [--json]',
  options: { reason: string },
  positionals: 1,
  run: ({ values, positionals, config }) => withApplication(config, {}, async (ledger) => {
    const closed = await closePeriod(ledger.db.pool, positionals[0] as string,
      `cli:${process.env.USER ?? 'operator'}`, typeof values.reason === 'string' ? values.reason : '', new Date());
    return { json: closed, text: `closed ${closed.period} at ${closed.closed_at}` };
  }),
};

export const reportCommands: Record<string, Command> = {
  'report run': runCommand,
  'report list': listCommand,
  'report show': showCommand,
  'report render': renderCommand,
  'report verify': verifyCommand,
  lineage: lineageCommand,
  'period close': periodCloseCommand,
};
