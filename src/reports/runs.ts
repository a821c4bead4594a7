// Report runs: compute at one snapshot, render every format, sign the manifest, store the
// run (immutable) with the template definitions it used (definitions.ts), and render a
// stored run again byte for byte from those definitions. Files are written 0640 in 0750
// folders (storage/files.ts). The one place that drives the engine; the CLI, the HTTP API
// and the scheduler all come through here.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { limits } from '../limits.ts';
import { canonicalJson, sha256Hex } from '../ledger/canonical.ts';
import { withTransaction, type Client, type Pool } from '../db/database.ts';
import { writeCheckpoint } from '../integrity/checkpoints.ts';
import { makePrivateDir, writePrivateFileAtomic } from '../storage/files.ts';
import type { SigningKey } from '../signing/keys.ts';
import { computeFigures, type ComputedFigure } from './compute.ts';
import { layoutRun } from './layout.ts';
import { buildManifest, signManifest, type Manifest, type ManifestFile } from './manifest.ts';
import { parseAsOf, resolveParams, type RequestedParams, type ResolvedParams } from './params.ts';
import { accessReviewInput, accessReviewReport } from '../access-control/review.ts';
import { figureSubject } from './figures.ts';
import { inScope } from '../access-control/scope.ts';
import { detailRowsSource } from './detail.ts';
import { countDetailRows, RenderCounter, type RenderProgress } from './run-progress.ts';
import { renderers } from './render/index.ts';
import type { RenderInput, ReportFormat, RunHeader } from './render/types.ts';
import { reportFormats } from './render/types.ts';
import type { FigureDef, Template } from './template.ts';
import {
  assertVersionNamesDefinitions, loadTemplateSources, runDefinitions, storeRunDefinitions, templateSourceFor,
  type TemplateSource,
} from './definitions.ts';
import type { RunParams } from './query.ts';

export type ReportContext = {
  readonly pool: Pool;
  readonly key: SigningKey;
  readonly dataDir: string;
  /** The service's figure pages, for links in xlsx and pdf: `${base}/${figureId}`. */
  readonly lineageBaseUrl: string;
  /** Where report templates are read (reports-templates by default). */
  readonly templatesDir?: string;
};

export type RunFiles = { run_id: string; files: Partial<Record<ReportFormat | 'manifest', string>> };

export async function loadTemplates(dir?: string): Promise<Map<string, Template>> {
  const sources = await loadTemplateSources(dir);
  return new Map([...sources].map(([report, source]) => [report, source.template]));
}

export async function templateFor(report: string, dir?: string): Promise<Template> {
  return (await templateSourceFor(report, dir)).template;
}

export type RunRequest = {
  readonly report: string;
  readonly params: RequestedParams;
  readonly requestedBy: string;
  readonly now: Date;
  readonly outDir?: string;
  /** The run's id when the caller must know it before the run ends (the API's 202); else a new one. */
  readonly runId?: string;
  /** Told of the rendering as it goes: rows rendered of rows to render (run-progress.ts). */
  readonly onProgress?: RenderProgress;
};

type Snapshot = {
  watermark: Record<string, number>;
  checkpoint: RunHeader['checkpoint'];
  supersedes: string | null;
  figures: ComputedFigure[];
};

/**
 * Checks a run's parameters as a person gave them, before anything is opened: an unknown
 * report, an impossible date, a currency that is not one are each a UserError naming it.
 */
export async function checkRunParams(report: string, params: RequestedParams, templatesDir?: string): Promise<void> {
  if (report === accessReviewReport) {
    accessReviewAsOf(params, new Date());
    return;
  }
  resolveParams(await templateFor(report, templatesDir), params);
}

/** access-review takes `as_of` only (REPORTS.md); left out, it is the run's own instant. */
function accessReviewAsOf(params: RequestedParams, now: Date): Date {
  for (const name of Object.keys(params)) {
    if (params[name] !== undefined && name !== 'as_of') {
      throw new UserError('bad_param', `report ${accessReviewReport} takes as_of; not ${name}`, name);
    }
  }
  return params.as_of === undefined ? now : new Date(parseAsOf(params.as_of));
}

/** The access review is read from the access tables, not the journal, and signed like every run. */
async function createAccessReviewRun(ctx: ReportContext, request: RunRequest): Promise<RunFiles> {
  const asOf = accessReviewAsOf(request.params, request.now);
  const previous = await ctx.pool.query<{ run_id: string }>(`SELECT run_id FROM ledger.report_runs
      WHERE report = $1 AND params = $2::jsonb ORDER BY run_seq DESC LIMIT 1`,
  [accessReviewReport, JSON.stringify({ as_of: asOf.toISOString() })]);
  const input = await accessReviewInput(ctx.pool, { runId: request.runId ?? randomUUID(), asOf,
    requestedBy: request.requestedBy, generatedAt: request.now, supersedes: previous.rows[0]?.run_id ?? null });
  return publishRenderedRun(ctx, input, request.outDir);
}

export async function createRun(ctx: ReportContext, request: RunRequest): Promise<RunFiles> {
  if (request.report === accessReviewReport) return createAccessReviewRun(ctx, request);
  const source = await templateSourceFor(request.report, ctx.templatesDir);
  const { template } = source;
  const resolved = resolveParams(template, request.params);
  await assertVersionNamesDefinitions(ctx.pool, source);
  const runId = request.runId ?? randomUUID();
  await writeCheckpoint(ctx.pool, ctx.key, ctx.dataDir, request.now);
  const snapshot = await withTransaction(ctx.pool, (client) =>
    readSnapshot(client, template, resolved, runId), { isolation: 'repeatable read' });
  const header: RunHeader = {
    report: template.report, title: template.title, run_id: runId, template_version: template.version,
    params: resolved.params, watermark: snapshot.watermark, generated_at: request.now.toISOString(),
    requested_by: request.requestedBy, supersedes: snapshot.supersedes, checkpoint: snapshot.checkpoint,
  };
  const outDir = request.outDir ?? path.join(ctx.dataDir, 'reports', runId);
  const rendered = await renderEverything(ctx, template, header, snapshot.figures, resolved.run, outDir,
    reportFormats, request.onProgress);
  const manifestFile = signManifest(buildManifest(header, snapshot.figures, rendered.files, ctx.key.keyId), ctx.key);
  const manifestName = `${baseName(header)}.manifest.json`;
  const manifestBytes = `${JSON.stringify(manifestFile, null, 2)}\n`;
  await writePrivateFileAtomic(path.join(outDir, manifestName), manifestBytes);
  await storeRun(ctx.pool, header, snapshot.figures, manifestFile, { ...rendered.files,
    manifest: { name: manifestName, sha256: sha256Hex(manifestBytes) } }, source);
  return { run_id: runId, files: { ...rendered.paths, manifest: path.join(outDir, manifestName) } };
}

async function readSnapshot(
  client: Client, template: Template, resolved: ResolvedParams, runId: string,
): Promise<Snapshot> {
  const { params, run, thresholds } = resolved;
  const partitions = await client.query<{ topic: string; partition: number; next_offset: string }>(
    'SELECT topic, partition, next_offset FROM ledger.log_partitions ORDER BY topic, partition');
  const watermark: Record<string, number> = {};
  for (const r of partitions.rows) watermark[`${r.topic}/${r.partition}`] = Number(r.next_offset) - 1;
  const checkpoint = await client.query<{ checkpoint_id: string; merkle_root: Buffer }>(
    'SELECT checkpoint_id, merkle_root FROM ledger.checkpoints ORDER BY checkpoint_id DESC LIMIT 1');
  const previous = await client.query<{ run_id: string }>(`SELECT run_id FROM ledger.report_runs
      WHERE report = $1 AND params = $2::jsonb ORDER BY run_seq DESC LIMIT 1`,
  [template.report, JSON.stringify(params)]);
  // A run restricted by `currency` or `market` has exactly the figures of the unrestricted
  // run that fall in that scope (REPORTS.md, Catalogue).
  const figures = (await computeFigures(client, template, run, watermark, runId, thresholds))
    .filter((f) => inScope(resolved.scope, figureSubject(f, template.currency)));
  const latest = checkpoint.rows[0];
  return {
    watermark,
    checkpoint: latest === undefined ? null
      : { checkpoint_id: Number(latest.checkpoint_id), merkle_root: latest.merkle_root.toString('hex') },
    supersedes: previous.rows[0]?.run_id ?? null,
    figures,
  };
}

function baseName(header: RunHeader): string {
  return `${header.report}-${header.run_id}`;
}

/** json first: the other formats print its SHA-256 (the data's hash) in their header. */
async function renderEverything(
  ctx: ReportContext, template: Template, header: RunHeader, figures: readonly ComputedFigure[], run: RunParams,
  outDir: string, formats: readonly ReportFormat[] = reportFormats, onProgress?: RenderProgress,
) {
  await makePrivateDir(outDir);
  const detailRows = template.detail === null ? null
    : detailRowsSource(ctx.pool, run, header.watermark);
  const laidOut = (dataSha256: string): RenderInput => layoutRun({
    template, header, figures, detailRows, lineageBaseUrl: ctx.lineageBaseUrl, dataSha256,
  });
  const counter = onProgress === undefined ? null : new RenderCounter(laidOut(''),
    detailRows === null ? 0 : await countDetailRows(ctx.pool, run, header.watermark),
    reportFormats.filter((f) => f === 'json' || formats.includes(f)), onProgress);
  const input = (dataSha256: string): RenderInput => (counter === null ? laidOut(dataSha256)
    : counter.wrap(laidOut(dataSha256)));
  const files: Manifest['files'] = {};
  const paths: Partial<Record<ReportFormat, string>> = {};
  const jsonName = `${baseName(header)}.json`;
  const dataSha256 = await renderers.json(input(''), path.join(outDir, jsonName));
  counter?.finished();
  files.json = { name: jsonName, sha256: dataSha256 };
  paths.json = path.join(outDir, jsonName);
  for (const format of reportFormats.filter((f) => f !== 'json' && formats.includes(f))) {
    const name = `${baseName(header)}.${format}`;
    files[format] = { name, sha256: await renderers[format](input(dataSha256), path.join(outDir, name)) };
    paths[format] = path.join(outDir, name);
    counter?.finished();
  }
  if (!formats.includes('json')) delete paths.json;
  return { files, paths };
}

async function storeRun(
  pool: Pool, header: RunHeader, figures: readonly ComputedFigure[], manifestFile: ManifestFile,
  files: Manifest['files'], definitions: TemplateSource | null,
): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(`INSERT INTO ledger.signing_keys (key_id, algorithm, public_key_pem)
      VALUES ($1, 'ed25519', $2) ON CONFLICT DO NOTHING`, [manifestFile.manifest.key_id, manifestFile.public_key_pem]);
    await client.query(`INSERT INTO ledger.report_runs (run_id, report, title, template_version, params,
        requested_by, watermark, generated_at, supersedes, checkpoint_id, manifest, manifest_signature, key_id)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [header.run_id, header.report, header.title, header.template_version, JSON.stringify(header.params),
      header.requested_by, JSON.stringify(header.watermark), header.generated_at, header.supersedes,
      header.checkpoint?.checkpoint_id ?? null, canonicalJson(manifestFile.manifest),
      Buffer.from(manifestFile.signature, 'base64'), manifestFile.manifest.key_id]);
    await client.query(`INSERT INTO ledger.report_figures (figure_id, run_id, ordinal, section, key, dims, value,
        kind, definition)
      SELECT * FROM unnest($1::text[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::jsonb[], $7::text[],
        $8::text[], $9::jsonb[])`, [
      figures.map((f) => f.id), figures.map(() => header.run_id), figures.map((_, i) => i),
      figures.map((f) => f.section), figures.map((f) => f.key), figures.map((f) => JSON.stringify(f.dims)),
      figures.map((f) => f.value), figures.map((f) => f.kind), figures.map((f) => JSON.stringify(f.definition)),
    ]);
    for (const [format, file] of Object.entries(files)) {
      await client.query(`INSERT INTO ledger.report_files (run_id, format, file_name, sha256) VALUES ($1, $2, $3, $4)`,
        [header.run_id, format, file.name, Buffer.from(file.sha256, 'hex')]);
    }
    if (definitions !== null) await storeRunDefinitions(client, header.run_id, definitions);
  });
}

/**
 * A run whose figures come from elsewhere (a reconciliation run's outcomes): rendered,
 * signed and stored exactly like a template run. Its figures have no journal lineage of
 * their own; the run's sections carry the lineage of each item (entry and log position,
 * or file and row).
 */
export async function publishRenderedRun(
  ctx: ReportContext, render: Omit<RenderInput, 'dataSha256' | 'lineageBaseUrl'>, outDir?: string,
): Promise<RunFiles> {
  // A run can only name a stored run as the one it supersedes.
  const previous = render.header.supersedes === null ? null : await ctx.pool.query(
    'SELECT 1 FROM ledger.report_runs WHERE run_id = $1', [render.header.supersedes]);
  const header = previous === null || previous.rowCount !== 0 ? render.header : { ...render.header, supersedes: null };
  render = { ...render, header };
  const dir = outDir ?? path.join(ctx.dataDir, 'reports', header.run_id);
  await makePrivateDir(dir);
  const input = (dataSha256: string): RenderInput => ({ ...render, lineageBaseUrl: ctx.lineageBaseUrl, dataSha256 });
  const files: Manifest['files'] = {};
  const paths: RunFiles['files'] = {};
  const jsonName = `${baseName(header)}.json`;
  const dataSha256 = await renderers.json(input(''), path.join(dir, jsonName));
  files.json = { name: jsonName, sha256: dataSha256 };
  paths.json = path.join(dir, jsonName);
  for (const format of reportFormats.filter((f) => f !== 'json')) {
    const name = `${baseName(header)}.${format}`;
    files[format] = { name, sha256: await renderers[format](input(dataSha256), path.join(dir, name)) };
    paths[format] = path.join(dir, name);
  }
  const manifestFile = signManifest(buildManifest(header, render.figures, files, ctx.key.keyId), ctx.key);
  const manifestName = `${baseName(header)}.manifest.json`;
  const manifestBytes = `${JSON.stringify(manifestFile, null, 2)}\n`;
  await writePrivateFileAtomic(path.join(dir, manifestName), manifestBytes);
  const figures: ComputedFigure[] = render.figures.map((f) => ({ ...f, section: 'external', amount: 0n,
    kind: /^-?\d+\.\d{2}$/.test(f.value) ? 'money' : 'count', definition: { key: f.key, title: f.key,
      measure: 'count_groups' } }));
  // Its figures come from the reconciliation run, not from a template: no definitions.
  await storeRun(ctx.pool, header, figures, manifestFile, { ...files,
    manifest: { name: manifestName, sha256: sha256Hex(manifestBytes) } }, null);
  return { run_id: header.run_id, files: { ...paths, manifest: path.join(dir, manifestName) } };
}

export type StoredRun = {
  header: RunHeader;
  figures: ComputedFigure[];
  files: Record<string, { name: string; sha256: string }>;
  manifestFile: ManifestFile;
};

export async function loadRun(pool: Pool, runId: string): Promise<StoredRun> {
  if (!/^[0-9a-f-]{36}$/i.test(runId)) throw new UserError('not_found', `no report run ${JSON.stringify(runId)}`);
  const run = await pool.query<{ manifest: string; manifest_signature: Buffer; public_key_pem: string }>(
    `SELECT r.manifest, r.manifest_signature, k.public_key_pem FROM ledger.report_runs r
       JOIN ledger.signing_keys k USING (key_id) WHERE r.run_id = $1`, [runId]);
  const row = run.rows[0];
  if (row === undefined) throw new UserError('not_found', `no report run ${runId}`);
  const manifest = JSON.parse(row.manifest) as Manifest;
  const figures = await pool.query<{ figure_id: string; section: string; key: string; dims: Record<string, string>;
    value: string; kind: ComputedFigure['kind']; definition: FigureDef }>(
    `SELECT figure_id, section, key, dims, value, kind, definition FROM ledger.report_figures
      WHERE run_id = $1 ORDER BY ordinal`, [runId]);
  // Dims come from the manifest (canonical key order), not from jsonb, which reorders keys.
  const dimsById = new Map(manifest.figures.map((f) => [f.id, f.dims]));
  return {
    header: manifest.run,
    figures: figures.rows.map((f) => ({ id: f.figure_id, key: f.key, dims: dimsById.get(f.figure_id) ?? f.dims,
      value: f.value, section: f.section, definition: f.definition, amount: 0n, kind: f.kind })),
    files: manifest.files,
    manifestFile: { manifest, signature: row.manifest_signature.toString('base64'), public_key_pem: row.public_key_pem },
  };
}

/** Renders a stored run again; the files must be byte-identical to the first rendering. */
export async function renderStoredRun(
  ctx: ReportContext, runId: string, outDir: string, formats: readonly ReportFormat[],
): Promise<RunFiles> {
  const stored = await loadRun(ctx.pool, runId);
  if (stored.header.report === 'reconciliation') {
    throw new UserError('not_supported', `run ${runId} is a reconciliation run: its files are under ` +
      `${path.join(ctx.dataDir, 'reports', runId)} and checked with \`ledger report verify\`; it is not rendered again`);
  }
  // The run's own definitions (titles, sections), not today's: the same bytes as the first time.
  const { template } = await runDefinitions(ctx.pool, { ...stored.header, run_id: runId }, ctx.templatesDir);
  const resolved = resolveParams(template, stored.header.params);
  const rendered = await renderEverything(ctx, template, stored.header, stored.figures, resolved.run, outDir,
    [...new Set<ReportFormat>(['json', ...formats])]);
  for (const [format, file] of Object.entries(rendered.files)) {
    if (stored.files[format]?.sha256 !== file.sha256) {
      throw new Error(`re-rendering run ${runId} as ${format} gave different bytes than the first rendering`);
    }
  }
  const paths: RunFiles['files'] = {};
  for (const format of formats) paths[format] = rendered.paths[format];
  if (formats.length === reportFormats.length) {
    const name = `${baseName(stored.header)}.manifest.json`;
    await writePrivateFileAtomic(path.join(outDir, name), `${JSON.stringify(stored.manifestFile, null, 2)}\n`);
    paths.manifest = path.join(outDir, name);
  }
  return { run_id: runId, files: paths };
}

export type RunSummary = {
  run_id: string; report: string; params: Record<string, string>; generated_at: string;
  requested_by: string; supersedes: string | null;
};

/** Runs, newest first; `beforeSeq` pages on (the run_seq of the last run of the previous page). */
export async function listRuns(pool: Pool, limit: number, beforeSeq?: number) {
  const bounded = Math.min(Math.max(limit, 1), limits.pageRowsMax);
  const result = await pool.query<RunSummary & { generated_at: Date; run_seq: string }>(
    `SELECT run_id, run_seq, report, params, generated_at, requested_by, supersedes FROM ledger.report_runs
      WHERE ($2::bigint IS NULL OR run_seq < $2::bigint) ORDER BY run_seq DESC LIMIT $1`,
    [bounded, beforeSeq ?? null]);
  return result.rows.map((r) => ({ ...r, run_seq: Number(r.run_seq), generated_at: new Date(r.generated_at).toISOString() }));
}
