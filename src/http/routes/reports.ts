// /api/report-runs (API.md): runs in the caller's scope, newest first; one run; its files
// (streamed, ETag = the file's SHA-256, Range for large ones, every download recorded in
// the trail with the file's hash and the grant that allowed it, before the bytes go out);
// and a run on demand (201 when it finishes within a few seconds, else 202 and the client
// follows GET, which shows it running).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { progressJson } from '../../observability/progress.ts';
import { UserError } from '../../errors.ts';
import type { OnDemandRuns } from '../../reports/on-demand.ts';
import { listRunsInScope, runFiles, reportCurrencies, runInScope as runInCallerScope } from '../../reports/run-listing.ts';
import { listRuns, loadRun, type ReportContext, type StoredRun } from '../../reports/runs.ts';
import { decodeCursor, encodeCursor, isWholeNumber, pageLimit } from '../paging.ts';
import { actorOf, callerScopes, recordBeforeResponding, type HttpApp } from '../server.ts';

const RunId = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const formats = ['json', 'csv', 'xlsx', 'pdf', 'manifest'] as const;
const contentTypes: Record<(typeof formats)[number], string> = {
  json: 'application/json', csv: 'text/csv; charset=utf-8', manifest: 'application/json',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', pdf: 'application/pdf',
};

export function reportRoutes(ctx: ReportContext, onDemand: OnDemandRuns) {
  return async (app: HttpApp) => {
    const currencies = await reportCurrencies(ctx.templatesDir);
    const runInScope = (request: FastifyRequest, id: string): Promise<StoredRun> =>
      runInCallerScope(ctx.pool, currencies, callerScopes(request), id);

    app.get('/api/report-runs', {
      config: { permission: 'reports:read' },
      schema: { tags: ['reports'], querystring: Type.Object({
        report: Type.Optional(Type.String({ maxLength: 64 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        cursor: Type.Optional(Type.String({ maxLength: 600 })),
      }, { additionalProperties: false }) },
    }, async (request) => {
      const limit = pageLimit(request.query.limit);
      const before = decodeCursor(request.query.cursor, isWholeNumber) ?? undefined;
      const page = await listRunsInScope(ctx.pool, currencies, callerScopes(request),
        { limit, beforeSeq: before, filter: { report: request.query.report } });
      return { items: page.items.map(summaryJson), next_cursor: page.nextSeq === null ? null : encodeCursor(page.nextSeq) };
    });

    app.get('/api/report-runs/:id', {
      config: { permission: 'reports:read' },
      schema: { tags: ['reports'], params: RunId },
    }, async (request) => {
      const progress = onDemand.progress(request.params.id, request.caller?.identity.id);
      if (progress !== null) {
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
      const grant = await onDemand.grantFor(request.body.report, params, request.routeGrants);
      const started = await onDemand.start({ report: request.body.report, params,
        requestedBy: actorOf(request, grant).identityId, at: request.at }, request.log);
      if (!started.finished) return reply.status(202).send({ id: started.id, status: 'running' });
      return reply.status(201).send(await runJson(ctx, await loadRun(ctx.pool, started.id)));
    });
  };
}

function summaryJson(run: Awaited<ReturnType<typeof listRuns>>[number]) {
  return { id: run.run_id, report: run.report, params: run.params, status: 'published', created_at: run.generated_at,
    requested_by: run.requested_by, supersedes: run.supersedes };
}

async function runJson(ctx: ReportContext, run: StoredRun) {
  const files: Record<string, { sha256: string; bytes: number | null }> = {};
  for (const file of await runFiles(ctx.dataDir, run)) files[file.format] = { sha256: file.sha256, bytes: file.bytes };
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
