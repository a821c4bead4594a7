// The pages an auditor walks to from a lineage line: GET /entries/:entryId (the journal
// entry: its lines, hash, previous hash, place in its partition's chain, and the signed
// checkpoint that covers it) and GET /events/:eventId (the raw message the log carried,
// pretty-printed and raw, its SHA-256 recomputed by the reader's browser beside the one
// stored). Scope as in the API: out of scope is a not-found page. Each read is in the
// trail (event.read as GET /api/events records it; entry.read likewise).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { readEntry, readEvent, type CheckpointSummary, type EntryRecord, type EventRecord,
  type JournalLineView } from '../../auditing/reads.ts';
import { UserError } from '../../errors.ts';
import { grantInScope, recordBeforeResponding } from '../../http/server.ts';
import { html, type Html } from '../html.ts';
import type { PageModule } from '../index.ts';
import { amountCell, sendPage, table, utc } from '../layout.ts';

const uuid = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const recordPages: PageModule = (app, web) => {
  app.get('/entries/:entryId', {
    config: { permission: 'lineage:read', page: true },
    schema: { hide: true, params: Type.Object({ entryId: Type.String({ pattern: uuid }) }) },
  }, async (request, reply) => {
    const id = request.params.entryId.toLowerCase();
    const entry = await readEntry(web.pool, id);
    if (entry === null) throw new UserError('not_found', `no entry ${id}`);
    const grant = grantInScope(request, 'lineage:read', entry.subject, `entry ${id}`);
    await recordBeforeResponding(web.pool, { at: request.at, actor: request.caller?.identity.id as string,
      action: 'entry.read', object: id, grantId: grant.id, source: request.ip,
      detail: { topic: entry.topic, partition: entry.partition, chain_seq: entry.chainSeq } });
    return entryPage(request, reply, entry);
  });

  app.get('/events/:eventId', {
    config: { permission: 'lineage:read', page: true },
    schema: { hide: true, params: Type.Object({ eventId: Type.String({ pattern: uuid }) }) },
  }, async (request, reply) => {
    const id = request.params.eventId.toLowerCase();
    const event = await readEvent(web.pool, id);
    // Only posted events are found by id, as in the API.
    if (event === null) throw new UserError('not_found', `no event ${id}`);
    const grant = grantInScope(request, 'lineage:read', event.subject, `event ${id}`);
    await recordBeforeResponding(web.pool, { at: request.at, actor: request.caller?.identity.id as string,
      action: 'event.read', object: id, grantId: grant.id, source: request.ip,
      detail: { topic: event.topic, partition: event.partition, offset: event.offset } });
    return eventPage(request, reply, event);
  });
};

function linesTable(lines: readonly JournalLineView[]): Html {
  return table('Journal lines', ['Line', 'Account', 'Side', html`<span class="amount">Amount</span>`],
    lines.map((l) => html`<tr><td>${l.line_no}</td><td>${l.account}</td><td>${l.side}</td>${amountCell(l.amount, l.currency)}</tr>`),
    'This entry has no lines: it records an event that moved no money (its lines would be here otherwise).');
}

function checkpointFacts(checkpoint: CheckpointSummary | null, entry: EntryRecord): Html {
  if (checkpoint === null) {
    return html`<p class="empty">No signed checkpoint covers this entry yet. The next one will: each projector run
      ends with one, or run <code>ledger checkpoint</code> on the server host.</p>`;
  }
  const head = checkpoint.heads.find((h) => h.topic === entry.topic && h.partition === entry.partition);
  return html`<dl class="facts">
    <dt>Checkpoint</dt><dd><a href="/verification#checkpoint-${checkpoint.checkpointId}">number
      ${checkpoint.checkpointId}</a>, made ${utc(checkpoint.createdAt)}</dd>
    <dt>Chain head it signed</dt><dd>${entry.topic}/${entry.partition} at position ${head?.chainSeq ?? '—'}:
      <code>${head?.hash ?? '—'}</code></dd>
    <dt>Merkle root</dt><dd><code>${checkpoint.merkleRoot}</code></dd>
    <dt>Signing key id</dt><dd><code>${checkpoint.keyId}</code></dd></dl>`;
}

function entryPage(request: FastifyRequest, reply: FastifyReply, entry: EntryRecord) {
  const body = html`<dl class="facts">
    <dt>Entry id</dt><dd><code>${entry.entryId}</code></dd>
    <dt>Event</dt><dd><a href="/events/${entry.eventId}"><code>${entry.eventId}</code></a> (${entry.eventType})</dd>
    <dt>Effective</dt><dd>${utc(entry.effectiveAt)}; booked in ${entry.bookedPeriod}</dd>
    <dt>Posting rule</dt><dd>${entry.rule}, version ${entry.ruleVersion}</dd>
    <dt>Log position</dt><dd><code>${entry.topic}/${entry.partition}@${entry.offset}</code></dd>
    <dt>Chain position</dt><dd>entry ${entry.chainSeq} of the hash chain of ${entry.topic}/${entry.partition}</dd>
    <dt>Hash</dt><dd><code>${entry.hash}</code></dd>
    <dt>Previous hash</dt><dd><code>${entry.previousHash}</code>${entry.chainSeq === 1 ? ' (the chain\'s start)' : ''}</dd>
    </dl>
    <h2>Lines</h2>${linesTable(entry.lines)}
    <h2>The checkpoint that covers it</h2>${checkpointFacts(entry.checkpoint, entry)}
    <p class="hint"><code>ledger verify</code> recomputes every hash of every chain and checks every checkpoint's
      signature; see <a href="/verification">Verification</a>.</p>`;
  return sendPage(request, reply, { title: `Entry ${entry.entryId.slice(0, 8)}`, body });
}

/** The message as JSON, indented, or why it cannot be (a posted event always parses; checked anyway). */
function prettyJson(value: Buffer): string {
  try {
    return JSON.stringify(JSON.parse(value.toString('utf8')), null, 2);
  } catch {
    return '(not JSON: see the raw bytes below)';
  }
}

function eventPage(request: FastifyRequest, reply: FastifyReply, event: EventRecord) {
  const body = html`<dl class="facts">
    <dt>Event id</dt><dd><code>${event.eventId}</code></dd>
    <dt>Log position</dt><dd><code>${event.topic}/${event.partition}@${event.offset}</code>, written to the log
      ${utc(event.logTimestamp)}</dd>
    <dt>Outcome</dt><dd>${event.outcome}: entry <a href="/entries/${event.entry.entryId}"><code>${event.entry.entryId}</code></a>,
      chain position ${event.entry.chainSeq}</dd>
    <dt>Size</dt><dd>${event.value.length} bytes</dd></dl>
    <h2>SHA-256 of the archived bytes</h2>
    <div id="raw-message" data-raw-base64="${event.value.toString('base64')}" data-stored-sha256="${event.storedSha256}">
    <dl class="facts">
      <dt>Stored by the ledger</dt><dd><code id="stored-sha256">${event.storedSha256}</code></dd>
      <dt>Computed by your browser</dt><dd><code id="browser-sha256">computing…</code></dd>
      <dt>Verdict</dt><dd><span id="hash-verdict" role="status">waiting for your browser</span></dd></dl></div>
    <noscript><p class="hint">Your browser runs no scripts here, so it cannot hash the bytes. Offline: save the
      raw bytes below exactly (or fetch <code>/api/events/${event.eventId}</code> and base64-decode
      <code>value_base64</code>) and run <code>sha256sum</code>.</p></noscript>
    <h2>Pretty-printed</h2><pre class="json" tabindex="0">${prettyJson(event.value)}</pre>
    <h2>Raw, as the log carried it</h2><pre class="raw" tabindex="0">${event.value.toString('utf8')}</pre>
    <h2>The entry it became</h2>${linesTable(event.entry.lines)}`;
  return sendPage(request, reply, { title: `Event ${event.eventId.slice(0, 8)}`, body, scripts: ['event-hash.js'] });
}
