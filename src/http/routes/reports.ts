// /api/report-runs (API.md): runs in the caller's scope, newest first; one run; its files
// (streamed, ETag = the file's SHA-256, Range for large ones, every download recorded in
// the trail with the file's hash and the grant that allowed it, before the bytes go out);
// and a run on demand (201 when it finishes within a few seconds, else 202 and the client
// follows GET, which shows it running).
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ProgressMeter, progressJson } from '../../observability/progress.ts';
import { allInScope, scopeCovers, type Scope } from '../../access-control/scope.ts';
import { UserError } from '../../errors.ts';
import { runSubjects, type ReportCurrencies } from '../../reports/run-scope.ts';
import {
  checkRunParams, createRun, listRuns, loadRun, loadTemplates, type ReportContext, type StoredRun,
} from '../../reports/runs.ts';
import { decodeCursor, encodeCursor, isWholeNumber, pageLimit } from '../paging.ts';
import { actorOf, callerScopes, recordBeforeResponding, type HttpApp } from '../server.ts';

const RunId = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const formats = ['json', 'csv', 'xlsx', 'pdf', 'manifest'] as const;
const contentTypes: Record<(typeof formats)[number], string> = {
  json: 'application/json', csv: 'text/csv; charset=utf-8', manifest: 'application/json',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', pdf: 'application/pdf',
};
/** How long POST waits for a run before answering 202 (API.md: "within a few seconds"). */
const runWaitMs = 5_000;
const listScanPagesMax = 20;

/** A run this process is making: its progress lives here, in memory, until it is published (then the row says it all). */
type Running = { id: string; report: string; params: Record<string, string | undefined>; requestedBy: string;
  startedAt: Date; failed: string | null; meter: ProgressMeter };

export function reportRoutes(ctx: ReportContext) {
  return async (app: HttpApp) => {
    const currencies: ReportCurrencies = new Map([...await loadTemplates(ctx.templatesDir)]
      .map(([report, template]) => [report, template.currency]));
    const running = new Map<string, Running>();
    const visible = async (request: FastifyRequest, runIds: string[]) => {
      const scopes = callerScopes(request);
      const subjects = await runSubjects(ctx.pool, runIds, currencies);
      return new Set(runIds.filter((id) => (subjects.get(id) ?? []).every((s) => scopes.some((sc) => allInScope(sc, [s])))));
    };
    const runInScope = async (request: FastifyRequest, id: string): Promise<StoredRun> => {
      const run = await loadRun(ctx.pool, id).catch(() => null);
      if (run === null || !(await visible(request, [id])).has(id)) throw new UserError('not_found', `no report run ${id}`);
      return run;
    };

    app.get('/api/report-runs', {
      config: { permission: 'reports:read' },
      schema: { tags: ['reports'], querystring: Type.Object({
        report: Type.Optional(Type.String({ maxLength: 64 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        cursor: Type.Optional(Type.String({ maxLength: 600 })),
      }, { additionalProperties: false }) },
    }, async (request) => {
      const limit = pageLimit(request.query.limit);
      let before = decodeCursor(request.query.cursor, isWholeNumber) ?? undefined;
      const items: Array<Record<string, unknown>> = [];
      let more = true;
      // Out of scope is absent, never counted: a page is filled from as many runs as it takes (bounded).
      for (let scanned = 0; scanned < listScanPagesMax && more && items.length < limit; scanned += 1) {
        const raw = await listRuns(ctx.pool, limit, before);
        const page = raw.filter((r) => request.query.report === undefined || r.report === request.query.report);
        more = raw.length === limit;
        before = raw.at(-1)?.run_seq ?? before;
        const seen = await visible(request, page.map((r) => r.run_id));
        for (const run of page) {
          if (seen.has(run.run_id) && items.length < limit) items.push({ ...summaryJson(run), seq: run.run_seq });
        }
      }
      const last = items.at(-1);
      const next = items.length === limit && last !== undefined ? encodeCursor(last.seq as number) : null;
      return { items: items.map(({ seq: _seq, ...item }) => item), next_cursor: next };
    });

    app.get('/api/report-runs/:id', {
      config: { permission: 'reports:read' },
      schema: { tags: ['reports'], params: RunId },
    }, async (request) => {
      const progress = running.get(request.params.id);
      if (progress !== undefined && progress.requestedBy === request.caller?.identity.id) {
        return { id: progress.id, report: progress.report, params: progress.params,
          status: progress.failed === null ? 'running' : 'failed',
          progress: { ...progressJson(progress.meter.snapshot()), started_at: progress.startedAt.toISOString() },
          error: progress.failed, requested_by: progress.requestedBy };
      }
      return runJson(ctx, await runInScope(request, request.params.id));
    });

    app.get('/api/report-runs/:id/files/:format', {
      config: { permission: 'reports:download' },
      schema: { tags: ['reports'], params: Type.Object({ id: Type.String({ format: 'uuid' }),
        format: Type.Union(formats.map((f) => Type.Literal(f))) }, { additionalProperties: false }) },
    }, async (request, reply) => {
      const run = await runInScope(request, request.params.id);
      return sendFile(ctx, request, reply, run, request.params.format);
    });

    app.post('/api/report-runs', {
      config: { permission: 'reports:run' },
      schema: { tags: ['reports'], body: Type.Object({
        report: Type.String({ maxLength: 64 }),
        params: Type.Optional(Type.Record(Type.String({ maxLength: 32 }), Type.String({ maxLength: 64 }))),
      }, { additionalProperties: false }) },
    }, async (request, reply) => {
      const params = request.body.params ?? {};
      await checkRunParams(request.body.report, params, ctx.templatesDir); // 400 before anything
      const asked: Scope = { currencies: params.currency === undefined ? null : [params.currency as 'USD'],
        markets: params.market === undefined ? null : [params.market] };
      const grant = request.routeGrants.find((g) => scopeCovers(g.scope, asked));
      if (grant === undefined) {
        throw new UserError('forbidden', 'your grant does not cover this run\'s scope: run it with params.currency ' +
          'and params.market within your scope', 'params');
      }
      const id = randomUUID();
      const requestedBy = actorOf(request, grant).identityId;
      const entry: Running = { id, report: request.body.report, params, requestedBy, startedAt: request.at, failed: null,
        meter: new ProgressMeter({ label: 'rendering', unit: 'rows', clock: () => performance.now() }) };
      running.set(id, entry);
      const made = createRun(ctx, { report: request.body.report, params, requestedBy, now: request.at, runId: id,
        onProgress: (done, total) => entry.meter.update(done, total) })
        .then(() => { running.delete(id); }, (error: unknown) => {
          entry.failed = error instanceof Error ? error.message : String(error);
          setTimeout(() => running.delete(id), 10 * 60_000).unref();
          throw error;
        });
      const finished = await Promise.race([made.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), runWaitMs).unref())]);
      if (!finished) {
        made.catch((error: unknown) => request.log.error({ err: error, run: id }, 'report run failed'));
        return reply.status(202).send({ id, status: 'running' });
      }
      return reply.status(201).send(await runJson(ctx, await loadRun(ctx.pool, id)));
    });
  };
}

function summaryJson(run: Awaited<ReturnType<typeof listRuns>>[number]) {
  return { id: run.run_id, report: run.report, params: run.params, status: 'published', created_at: run.generated_at,
    requested_by: run.requested_by, supersedes: run.supersedes };
}

async function runJson(ctx: ReportContext, run: StoredRun) {
  const dir = path.join(ctx.dataDir, 'reports', run.header.run_id);
  const files: Record<string, { sha256: string; bytes: number | null }> = {};
  for (const format of formats) {
    const entry = format === 'manifest' ? null : run.files[format];
    const name = entry?.name ?? (format === 'manifest' ? `${run.header.report}-${run.header.run_id}.manifest.json` : null);
    if (name === null) continue;
    const size = await stat(path.join(dir, name)).then((s) => s.size, () => null);
    files[format] = { sha256: entry?.sha256 ?? '', bytes: size };
  }
  return {
    id: run.header.run_id, report: run.header.report, params: run.header.params, status: 'published', progress: null,
    watermark: run.header.watermark, requested_by: run.header.requested_by, created_at: run.header.generated_at,
    supersedes: run.header.supersedes, template_version: run.header.template_version, checkpoint: run.header.checkpoint,
    files, figures: run.figures.map((f) => ({ id: f.id, key: f.key, dims: f.dims, value: f.value })),
  };
}

/** One byte range of a file, as RFC 9110 allows a client to ask; null for the whole file. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === '' && match[2] === '')) return null; // several ranges or junk: the whole file
  const start = match[1] === '' ? Math.max(0, size - Number(match[2])) : Number(match[1]);
  const end = match[1] === '' || match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start > end || start >= size ? 'unsatisfiable' : { start, end };
}

async function sendFile(
  ctx: ReportContext, request: FastifyRequest, reply: FastifyReply, run: StoredRun, format: (typeof formats)[number],
) {
  const dir = path.join(ctx.dataDir, 'reports', run.header.run_id);
  const name = format === 'manifest' ? `${run.header.report}-${run.header.run_id}.manifest.json` : run.files[format]?.name;
  if (name === undefined) throw new UserError('not_found', `run ${run.header.run_id} has no ${format} file`);
  const file = path.join(dir, name);
  const size = await stat(file).then((s) => s.size, () => null);
  if (size === null) throw new UserError('not_found', `the ${format} file of run ${run.header.run_id} is not kept by this service`);
  // The bytes served must be the bytes published: hashed here, compared with the signed manifest.
  const sha256 = await fileSha256(file);
  const published = format === 'manifest' ? null : run.files[format]?.sha256;
  if (published !== null && published !== sha256) {
    throw new Error(`invariant violated: ${file} no longer has the published SHA-256`);
  }
  const range = parseRange(request.headers.range, size);
  const grant = request.routeGrants[0] ?? null;
  await recordBeforeResponding(ctx.pool, { at: request.at, actor: actorOf(request).identityId,
    action: 'report.download', object: run.header.run_id, grantId: grant?.id ?? null, source: request.ip,
    detail: { format, file: name, sha256, bytes: size,
      range: range === null || range === 'unsatisfiable' ? null : `${range.start}-${range.end}` } });
  void reply.header('ETag', `"${sha256}"`).header('Accept-Ranges', 'bytes').type(contentTypes[format])
    .header('Content-Disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  if (request.headers['if-none-match'] === `"${sha256}"`) return reply.status(304).send();
  if (range === 'unsatisfiable') return reply.status(416).header('Content-Range', `bytes */${size}`).send();
  if (range === null) return reply.header('Content-Length', size).send(createReadStream(file));
  return reply.status(206).header('Content-Range', `bytes ${range.start}-${range.end}/${size}`)
    .header('Content-Length', range.end - range.start + 1).send(createReadStream(file, range));
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
