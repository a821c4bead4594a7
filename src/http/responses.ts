// What every API route answers, as API.md's Bodies table and Routes say, in one table:
// each route's documented responses (its success body and the error statuses it can give),
// keyed by `METHOD path`. server.ts attaches them to each route as it is registered, so
// /api/openapi.json documents them, and test/http/openapi-answers.int.spec.ts calls every
// route and validates what it really answers against this table. They document; they do
// not serialise (server.ts serialises with JSON.stringify), so a field missing here is a
// failing test, never a field silently dropped from an answer.
import { Type, type TSchema } from 'typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Open = (properties: Record<string, TSchema>) => Type.Object(properties, { additionalProperties: true });
const Strings = Type.Record(Type.String(), Type.String());
/** A decimal string: amounts are never JSON numbers (API.md). */
const Amount = Type.String({ pattern: '^-?[0-9]+(\\.[0-9]+)?$' });
const Instant = Type.String({ format: 'date-time' });
const Page = (item: TSchema) => Type.Object({ items: Type.Array(item), next_cursor: Nullable(Type.String()) },
  { additionalProperties: false });

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Nullable(Type.String()) },
    { additionalProperties: false }),
}, { additionalProperties: false, description: 'API.md: {error: {code, message, field}}' });

const Identity = Type.Object({ id: Type.String(), name: Type.String(), email: Nullable(Type.String()),
  kind: Type.Union([Type.Literal('person'), Type.Literal('service')]) }, { additionalProperties: false });
const Scope = Open({ currencies: Type.Optional(Type.Array(Type.String())), markets: Type.Optional(Type.Array(Type.String())) });
const Grant = Type.Object({ id: Type.String(), user: Type.String(), role: Type.String(), scope: Scope,
  expires_at: Instant, status: Type.Union([Type.Literal('active'), Type.Literal('pending'), Type.Literal('revoked'),
    Type.Literal('expired')]), granted_by: Type.String(), approved_by: Nullable(Type.String()),
  reason: Type.String() }, { additionalProperties: false });
const FileRef = Type.Object({ sha256: Type.String(), bytes: Nullable(Type.Integer()) }, { additionalProperties: false });
const Figure = Type.Object({ id: Type.String(), key: Type.String(), dims: Strings, value: Type.String() },
  { additionalProperties: false });
const RunSummary = Open({ id: Type.String({ format: 'uuid' }), report: Type.String(), params: Strings,
  status: Type.Literal('published'), created_at: Type.String(), requested_by: Type.String(),
  supersedes: Nullable(Type.String()) });
/** A running run's progress (observability/progress.ts): rows rendered of the rows to render; null once published. */
const RunProgress = Type.Object({ done: Type.Integer(), total: Nullable(Type.Integer()), unit: Type.String(),
  rate_per_second: Nullable(Type.Integer()), eta_seconds: Nullable(Type.Integer()), started_at: Instant },
{ additionalProperties: false });
const Run = Open({
  id: Type.String({ format: 'uuid' }), report: Type.String(), params: Strings,
  status: Type.Union([Type.Literal('running'), Type.Literal('published'), Type.Literal('failed')]),
  progress: Nullable(RunProgress), requested_by: Type.String(),
  watermark: Type.Optional(Type.Unknown()), created_at: Type.Optional(Type.String()),
  supersedes: Type.Optional(Nullable(Type.String())),
  files: Type.Optional(Type.Object({ json: Type.Optional(FileRef), csv: Type.Optional(FileRef),
    xlsx: Type.Optional(FileRef), pdf: Type.Optional(FileRef), manifest: Type.Optional(FileRef) },
  { additionalProperties: false })),
  figures: Type.Optional(Type.Array(Figure)),
});
const LineageLine = Type.Object({
  entry_id: Type.String(), line_no: Nullable(Type.Integer()), event_id: Type.String(), event_type: Type.String(),
  account: Nullable(Type.String()), side: Nullable(Type.String()), amount: Nullable(Amount),
  currency: Nullable(Type.String()), contribution: Type.String(), topic: Type.String(), partition: Type.Integer(),
  offset: Type.Integer(), message_sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
}, { additionalProperties: false });
const Money = Nullable(Amount);
const ReconciliationRun = Open({ id: Type.String(), date: Type.String(), requested_by: Type.String(),
  started_at: Instant, finished_at: Instant, supersedes: Nullable(Type.String()), currencies: Type.Array(Type.String()),
  params: Type.Unknown(), outcomes: Type.Unknown(), categories: Type.Unknown(), checks: Type.Unknown(),
  breaks_open: Type.Integer(), ok: Type.Boolean() });
const Break = Open({ break_id: Type.String(), outcome: Type.String(), source: Type.String(), category: Type.String(),
  currency: Type.String(), status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  ledger_amount: Money, external_amount: Money, difference: Money });

/** The error statuses a guarded route can give whatever it does (API.md, Conventions). */
const guarded = { 401: ErrorBody, 403: ErrorBody, 429: ErrorBody };
/** …and those of a route that reads or writes with input (400), objects (404), the trail (503). */
const withInput = { ...guarded, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody };

export const documentedResponses: Readonly<Record<string, Record<number, TSchema>>> = {
  'GET /api/health': {
    200: Type.Object({ status: Type.Literal('ok'), database: Type.Literal('ok'), version: Type.String() },
      { additionalProperties: false }),
    503: Type.Object({ status: Type.Literal('degraded'), database: Type.String(), version: Type.String() },
      { additionalProperties: false }),
  },
  'GET /metrics': { 200: Type.String({ description: 'Prometheus text exposition' }), ...guarded },
  'GET /api/access/users': { 200: Page(Identity), ...withInput },
  'POST /api/access/users': { 201: Identity, ...withInput, 409: ErrorBody, 413: ErrorBody },
  'GET /api/access/grants': { 200: Page(Grant), ...withInput },
  'POST /api/access/grants': { 201: Grant, ...withInput, 413: ErrorBody },
  'POST /api/access/grants/:id/approve': {
    200: Type.Object({ id: Type.String(), status: Type.Literal('active'), approved_by: Type.String() },
      { additionalProperties: false }), ...withInput, 409: ErrorBody, 413: ErrorBody },
  'DELETE /api/access/grants/:id': {
    200: Type.Object({ id: Type.String(), status: Type.Literal('revoked') }, { additionalProperties: false }),
    ...withInput, 409: ErrorBody, 413: ErrorBody },
  'POST /api/access/tokens': {
    201: Type.Object({ token: Type.String({ pattern: '^ldg_' }), token_id: Type.String(), expires_at: Instant },
      { additionalProperties: false }), ...withInput, 413: ErrorBody },
  'GET /api/audit': {
    200: Page(Type.Object({ id: Type.Integer(), at: Instant, actor: Type.String(), action: Type.String(),
      object: Nullable(Type.String()), grant: Nullable(Type.String()), source: Nullable(Type.String()),
      detail: Type.Unknown(), hash: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, { additionalProperties: false })),
    ...withInput },
  'GET /api/report-runs': { 200: Page(RunSummary), ...withInput },
  'GET /api/report-runs/:id': { 200: Run, ...withInput },
  'GET /api/report-runs/:id/files/:format': {
    200: Type.String({ description: 'the file, streamed; ETag is its SHA-256', format: 'binary' }),
    206: Type.String({ description: 'the asked byte range', format: 'binary' }),
    304: Type.Null({ description: 'If-None-Match matched the ETag' }),
    416: Type.Null({ description: 'the Range cannot be satisfied' }), ...withInput },
  'POST /api/report-runs': {
    201: Run,
    202: Type.Object({ id: Type.String({ format: 'uuid' }), status: Type.Literal('running') },
      { additionalProperties: false }), ...withInput, 413: ErrorBody },
  'GET /api/figures/:figureId/lineage': {
    200: Type.Object({
      figure: Type.Object({ id: Type.String(), key: Type.String(), dims: Strings, run_id: Type.String(),
        report: Type.String() }, { additionalProperties: false }),
      value: Type.String(), terms: Type.Array(Type.Object({ figure_id: Type.String(), key: Type.String(),
        sign: Type.Union([Type.Literal(1), Type.Literal(-1)]) }, { additionalProperties: false })),
      lines: Type.Array(LineageLine), sum: Type.String(), next_cursor: Nullable(Type.String()),
    }, { additionalProperties: false }), ...withInput },
  'GET /api/events/:eventId': {
    200: Type.Object({ event_id: Type.String(), topic: Type.String(), partition: Type.Integer(), offset: Type.Integer(),
      log_timestamp: Instant, outcome: Type.String(), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
      value_base64: Type.String(), value_text: Type.String(),
      entry: Type.Object({ entry_id: Nullable(Type.String()), chain_seq: Type.Integer(), hash: Nullable(Type.String()),
        lines: Type.Array(Type.Object({ line_no: Type.Integer(), account: Type.String(), side: Type.String(),
          amount: Amount, currency: Type.String() }, { additionalProperties: false })) }, { additionalProperties: false }),
    }, { additionalProperties: false }), ...withInput },
  'GET /api/accounts/:code/balance': {
    200: Type.Object({ account: Type.String(), currency: Type.String(), as_of: Type.String(), dims: Strings,
      normal_side: Type.Union([Type.Literal('debit'), Type.Literal('credit')]), debits: Amount, credits: Amount,
      balance: Amount, lines: Type.Integer() }, { additionalProperties: false }), ...withInput },
  'GET /api/quarantine': {
    200: Page(Type.Object({ topic: Type.String(), partition: Type.Integer(), offset: Type.Integer(),
      reason: Type.String(), message: Type.String(), event_id: Nullable(Type.String()),
      event_type: Nullable(Type.String()), quarantined_at: Instant }, { additionalProperties: false })),
    ...withInput },
  'GET /api/reconciliation-runs': { 200: Page(ReconciliationRun), ...withInput },
  'GET /api/reconciliation-runs/:id': {
    200: Type.Intersect([ReconciliationRun, Open({ inputs: Type.Unknown(), watermark: Type.Unknown(),
      breaks: Page(Break) })]), ...withInput },
  'POST /api/reconciliation-breaks/:id/resolve': {
    200: Type.Object({ break_id: Type.String(), status: Type.Literal('resolved'), resolution: Type.Unknown() },
      { additionalProperties: false }), ...withInput, 409: ErrorBody, 413: ErrorBody },
  'POST /api/adjustments': {
    201: Type.Object({ id: Type.String({ pattern: '^adj_' }), status: Type.Literal('pending'),
      requested_by: Type.String() }, { additionalProperties: false }), ...withInput, 413: ErrorBody },
  'POST /api/adjustments/:id/approve': {
    200: Type.Object({ id: Type.String(), status: Type.Literal('approved'), approved_by: Type.String(),
      event_id: Type.String() }, { additionalProperties: false }), ...withInput, 409: ErrorBody, 413: ErrorBody },
};
