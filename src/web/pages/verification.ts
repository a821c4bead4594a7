// GET /verification: what an auditor checks the ledger's integrity with: the last
// `ledger verify` result kept in the database (each check, passed or failed, and when),
// how to run it again, and what it checks against: the signed checkpoints (every partition's chain head, their Merkle
// root, the Ed25519 signature and the signing key's fingerprint), newest first, paged,
// and how to check one offline. Chain heads count every entry of every currency and
// market, so they are shown only to a caller whose grant covers everything; anyone else
// is told so (never shown a count outside their scope).
//
// GET /verification/checkpoints/:id: one checkpoint as the file `ledger checkpoint`
// exports (format ledger-checkpoint/1), to download and check offline.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { listCheckpoints, readCheckpoint, type CheckpointSummary } from '../../auditing/reads.ts';
import { grantFor } from '../../access-control/grants.ts';
import { UserError } from '../../errors.ts';
import { lastVerification, type VerificationRecord } from '../../integrity/verify-runs.ts';
import { decodeCursor, encodeCursor, isWholeNumber } from '../../http/paging.ts';
import { html, type Html } from '../html.ts';
import type { PageModule } from '../index.ts';
import { nextPageLink, sendPage, table, utc } from '../layout.ts';
import { publicKeyFingerprint, shortHash } from './auditing-format.ts';

const checkpointsPerPage = 20;
const everything = { currency: null, market: null } as const;

function coversEverything(request: FastifyRequest): boolean {
  return request.caller !== null && grantFor(request.caller.grants, 'lineage:read', everything, request.at) !== null;
}

export const verificationPages: PageModule = (app, web) => {
  app.get('/verification', {
    config: { permission: 'lineage:read', page: true },
    schema: { hide: true, querystring: Type.Object({ cursor: Type.Optional(Type.String({ maxLength: 100 })) },
      { additionalProperties: false }) },
  }, async (request, reply) => {
    if (!coversEverything(request)) return narrowScopePage(request, reply);
    const before = decodeCursor(request.query.cursor, isWholeNumber);
    const rows = await listCheckpoints(web.pool, before, checkpointsPerPage + 1);
    const shown = rows.slice(0, checkpointsPerPage);
    const next = rows.length > checkpointsPerPage ? encodeCursor(shown.at(-1)?.checkpointId as number) : null;
    const last = await lastVerification(web.pool);
    return sendPage(request, reply, { title: 'Verification', body: html`${lastResult(last)}${howToVerify()}
      <h2 id="checkpoints">Signed checkpoints</h2>
      ${table('Checkpoints, newest first', ['Number', 'Made (UTC)', 'Chain heads', 'Merkle root', 'Signature (Ed25519)',
        'Key id and fingerprint', 'File'], shown.map(checkpointRow),
      html`No checkpoint has been made yet. Each projector run ends with one; or run <code>ledger checkpoint</code>
        on the server host, then reload this page.`)}
      <nav aria-label="Checkpoint pages" class="pager">${nextPageLink('/verification', {}, next)}</nav>` });
  });

  app.get('/verification/checkpoints/:checkpointId', {
    config: { permission: 'lineage:read', page: true },
    schema: { hide: true, params: Type.Object({ checkpointId: Type.String({ pattern: '^[0-9]{1,15}$' }) }) },
  }, async (request, reply) => {
    const id = Number(request.params.checkpointId);
    const checkpoint = coversEverything(request) ? await readCheckpoint(web.pool, id) : null;
    if (checkpoint === null) throw new UserError('not_found', `no checkpoint ${id}`);
    return reply.type('application/json').header('Content-Disposition', `attachment; filename="checkpoint-${id}.json"`)
      .send(`${JSON.stringify(checkpoint.file, null, 2)}\n`);
  });
};

function checkpointRow(c: CheckpointSummary): Html {
  return html`<tr id="checkpoint-${c.checkpointId}"><td>${c.checkpointId}</td><td>${utc(c.createdAt)}</td>
    <td>${c.heads.map((h) => html`<div><code>${h.topic}/${h.partition}</code> at ${h.chainSeq}:
      <code title="${h.hash}">${shortHash(h.hash)}</code></div>`)}</td>
    <td><code>${c.merkleRoot}</code></td><td><code>${c.signatureBase64}</code></td>
    <td><code>${c.keyId}</code><br><span class="hint">SHA-256 of the key:</span>
      <code>${publicKeyFingerprint(c.publicKeyPem)}</code></td>
    <td><a href="/verification/checkpoints/${c.checkpointId}" download>checkpoint-${c.checkpointId}.json</a></td></tr>`;
}

function lastResult(last: VerificationRecord | null): Html {
  if (last === null) {
    return html`<h2>The last verification</h2><p class="empty">No <code>ledger verify</code> has been run against
      this database yet (or none could keep its result). Run it on the server host, as below, then reload this page.</p>`;
  }
  return html`<h2>The last verification</h2>
    <p data-verify-result="${last.ok ? 'passed' : 'failed'}">${last.ok ? html`<span class="ok">Passed</span>`
      : html`<span class="bad">FAILED</span>`}: <code>ledger verify</code> finished ${utc(last.finishedAt)}${
      last.withExportedCheckpoints ? ', comparing an auditor\'s own checkpoint files too' : ''}.</p>
    ${table('Its checks', ['Check', 'Result', 'What it found'], last.checks.map((c) => html`<tr><td><code>${c.name}</code></td>
      <td>${c.ok ? html`<span class="ok">ok</span>` : html`<span class="bad">FAIL</span>`}</td><td>${c.detail}</td></tr>`),
    'That run recorded no checks.')}`;
}

function howToVerify(): Html {
  return html`<h2>Verifying again</h2>
    <p>Run it on the server host (it exits 1, naming the entry, checkpoint or run at fault, when any check fails;
      its result then shows above):</p>
    <pre tabindex="0">npx ledger verify --checkpoints DIR_OF_YOUR_CHECKPOINT_FILES</pre>
    <p>It recomputes every entry's hash along each partition's chain, checks every checkpoint's Merkle root and
      signature against the keys it trusts, and compares the checkpoint files you kept with the database.</p>
    <h2>Checking a checkpoint offline</h2>
    <ol>
      <li>Get the ledger's public key: <code>npx ledger keys export --out ledger-public.pem</code> (its SHA-256,
        <code>openssl pkey -pubin -in ledger-public.pem -outform DER | sha256sum</code>, is the fingerprint below).</li>
      <li>Download a checkpoint's file below (or keep those under <code>LEDGER_DATA_DIR/checkpoints</code>).</li>
      <li>The signature covers the canonical JSON (RFC 8785) of the file's <code>body</code>: write it with
        <code>jq -cS .body checkpoint-N.json | tr -d '\\n' &gt; body.json</code>, decode the signature with
        <code>jq -r .signature checkpoint-N.json | base64 -d &gt; sig.bin</code>, and check it with
        <code>openssl pkeyutl -verify -rawin -pubin -inkey ledger-public.pem -in body.json -sigfile sig.bin</code>.</li>
      <li>Or let the ledger do all of it against your copies: <code>npx ledger verify --checkpoints DIR</code>.</li>
    </ol>`;
}

function narrowScopePage(request: FastifyRequest, reply: FastifyReply) {
  return sendPage(request, reply, { title: 'Verification', body: html`<p class="empty">Checkpoints sign every
    partition's chain head, which counts entries of every currency and market; your grants cover only part of
    the ledger, so they are not shown to you. Ask an administrator for an auditor grant without a currency or
    market limit, or ask an auditor to run <code>ledger verify</code>.</p>` });
}
