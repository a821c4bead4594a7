// The checks that need the chains walked: hash_chains, checkpoints (signed, in the
// database) and, given the auditor's files, exported_checkpoints. All three are judged in
// one repeatable-read snapshot: the checkpoints, read first, name the positions whose
// recomputed hash they need, so that the walk keeps those and nothing else per entry.
// This module runs on the chain thread (chain-thread.ts), or in the caller's thread.
import { withTransaction, type Pool } from '../db/database.ts';
import { canonicalJson } from '../ledger/canonical.ts';
import { headsRoot, type CheckpointBody } from '../ledger/merkle.ts';
import { verifySignature } from '../signing/keys.ts';
import { describeTrusted, findTrustedSigner, type TrustedKeys } from '../signing/trust.ts';
import { walkChains, type ChainHashes, type Problems, type WalkProgress } from './chains.ts';
import type { CheckpointFile } from './checkpoints.ts';

export type Check = { name: string; ok: boolean; detail: string };
export type ChainChecks = { chains: Check; checkpoints: Check; exported: Check | null };

export const problemsShownMax = 20;

export function check(name: string, problems: readonly string[] | Problems, okDetail: string): Check {
  const listed = 'shown' in problems ? problems.shown : problems;
  const total = 'shown' in problems ? problems.total : problems.length;
  if (total === 0) return { name, ok: true, detail: okDetail };
  const shown = listed.slice(0, problemsShownMax).join('; ');
  const more = total > problemsShownMax ? `; and ${total - problemsShownMax} more` : '';
  return { name, ok: false, detail: shown + more };
}

type CheckpointRow = {
  checkpoint_id: string; body: string; signature: Buffer; key_id: string; public_key_pem: string | null;
};

/**
 * `trusted`: the pinned keys (trust.ts); a checkpoint signed by any other key fails, whatever
 * ledger.signing_keys holds. null (callers that have no configuration) checks signatures
 * against the database's own keys, which proves integrity but not origin, and says so.
 */
export async function chainChecks(
  pool: Pool, files: readonly CheckpointFile[] | undefined, trusted: TrustedKeys | null = null,
  onProgress?: WalkProgress,
): Promise<ChainChecks> {
  return withTransaction(pool, async (client) => {
    await client.query('SET TRANSACTION READ ONLY');
    const rows = await client.query<CheckpointRow>(
      `SELECT c.checkpoint_id, c.body, c.signature, c.key_id, k.public_key_pem FROM ledger.checkpoints c
         LEFT JOIN ledger.signing_keys k USING (key_id) ORDER BY c.checkpoint_id`);
    const stored = rows.rows.map((r) => ({ ...r, parsed: JSON.parse(r.body) as CheckpointBody }));
    const wanted = new Set<string>();
    for (const body of [...stored.map((c) => c.parsed), ...(files ?? []).map((f) => f.body)]) {
      for (const head of body.heads) wanted.add(`${head.topic}/${head.partition}/${head.chainSeq}`);
    }
    const walk = await walkChains(client, wanted, problemsShownMax, onProgress);
    const checkpointsProblems = stored.flatMap((r) => checkpointProblems(`checkpoint ${r.checkpoint_id}`,
      r.parsed, r.key_id, r.signature, signerOf(trusted, r.key_id, r.public_key_pem), walk.hashes));
    return {
      chains: check('hash_chains', walk.problems,
        `${walk.entriesChecked} entries in ${walk.chains} chains recomputed, each chain in full from genesis`),
      checkpoints: check('checkpoints', checkpointsProblems,
        `${stored.length} signed checkpoints match the chains; ${originDetail(trusted)}`),
      exported: files === undefined ? null : checkExportedCheckpoints(files, walk.hashes, trusted),
    };
  }, { isolation: 'repeatable read' });
}

/** The public key a signature must verify under, or why there is none to trust. */
export type Signer = { publicKeyPem: string } | { untrusted: string };

/** With a trust list, its key of that id (or the id's legacy form); without one, what the signed record carries. */
export function signerOf(trusted: TrustedKeys | null, keyId: string, carriedPem: string | null): Signer {
  if (trusted === null) return carriedPem === null ? { untrusted: `key ${keyId} is not in ledger.signing_keys` }
    : { publicKeyPem: carriedPem };
  const key = findTrustedSigner(trusted, keyId);
  return key !== undefined ? { publicKeyPem: key.publicKeyPem }
    : { untrusted: `signed by key ${keyId}, which is not a trusted key (the service's own or LEDGER_TRUSTED_KEYS)` };
}

export function originDetail(trusted: TrustedKeys | null): string {
  return trusted === null ? 'signatures checked with the database\'s own keys (origin not checked)'
    : `each signed by a trusted key (${describeTrusted(trusted)})`;
}

function checkpointProblems(
  label: string, body: CheckpointBody, keyId: string, signature: Buffer, signer: Signer, hashes: ChainHashes,
): string[] {
  const problems: string[] = [];
  if (body.key_id !== keyId) problems.push(`${label}: its body names key ${body.key_id}, its row key ${keyId}`);
  if ('untrusted' in signer) problems.push(`${label}: ${signer.untrusted}`);
  else if (!verifySignature(signer.publicKeyPem, canonicalJson(body), signature)) {
    problems.push(`${label}: signature does not verify`);
  }
  if (headsRoot(body.heads) !== body.merkle_root) problems.push(`${label}: Merkle root does not match its heads`);
  for (const head of body.heads) {
    const now = hashes.get(`${head.topic}/${head.partition}/${head.chainSeq}`);
    if (now !== head.hash) {
      problems.push(`${label}: ${head.topic}/${head.partition} entry ${head.chainSeq} hashes to ` +
        `${now ?? 'nothing (missing)'}, the checkpoint says ${head.hash}`);
    }
  }
  return problems;
}

function checkExportedCheckpoints(
  files: readonly CheckpointFile[], hashes: ChainHashes, trusted: TrustedKeys | null,
): Check {
  const problems = files.flatMap((f) => checkpointProblems(`exported checkpoint ${f.checkpoint_id}`, f.body,
    f.body.key_id, Buffer.from(f.signature, 'base64'), signerOf(trusted, f.body.key_id, f.public_key_pem), hashes));
  return check('exported_checkpoints', problems, `${files.length} exported checkpoint files match the chains`);
}
