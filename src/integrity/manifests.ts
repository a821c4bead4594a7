// `ledger verify`, report_manifests: every stored report run's manifest is signed by a
// trusted key (trust.ts) and the signature verifies over the manifest as stored. A run
// signed by a key someone added to ledger.signing_keys is named by its run id.
import type { Pool } from '../db/database.ts';
import { verifySignature } from '../signing/keys.ts';
import type { TrustedKeys } from '../signing/trust.ts';
import { check, originDetail, problemsShownMax, signerOf, type Check } from './chain-checks.ts';
import { Problems } from './chains.ts';

type RunRow = {
  run_seq: string; run_id: string; manifest: string; manifest_signature: Buffer; key_id: string;
  public_key_pem: string | null;
};

/** Runs per query: a manifest lists every figure of its run, so a page is kept small. */
const runsPerPage = 50;

export async function checkReportManifests(pool: Pool, trusted: TrustedKeys | null): Promise<Check> {
  const problems = new Problems(problemsShownMax);
  let afterSeq = '0';
  let runs = 0;
  for (;;) {
    const page = await pool.query<RunRow>(
      `SELECT r.run_seq, r.run_id, r.manifest, r.manifest_signature, r.key_id, k.public_key_pem
         FROM ledger.report_runs r LEFT JOIN ledger.signing_keys k USING (key_id)
        WHERE r.run_seq > $1 ORDER BY r.run_seq LIMIT ${runsPerPage}`, [afterSeq]);
    for (const row of page.rows) {
      runs += 1;
      const found = runProblem(row, trusted);
      if (found !== null) problems.add(found);
    }
    if (page.rows.length < runsPerPage) break;
    afterSeq = (page.rows[page.rows.length - 1] as RunRow).run_seq;
  }
  return check('report_manifests', problems, `${runs} report manifests signed; ${originDetail(trusted)}`);
}

function runProblem(row: RunRow, trusted: TrustedKeys | null): string | null {
  const label = `report run ${row.run_id}`;
  let named: { key_id?: unknown; run?: { run_id?: unknown } };
  try {
    named = JSON.parse(row.manifest) as typeof named;
  } catch {
    return `${label}: its stored manifest is not JSON`;
  }
  if (named.key_id !== row.key_id) return `${label}: its manifest names key ${String(named.key_id)}, its row ${row.key_id}`;
  if (named.run?.run_id !== row.run_id) return `${label}: its manifest is of run ${String(named.run?.run_id)}`;
  const signer = signerOf(trusted, row.key_id, row.public_key_pem);
  if ('untrusted' in signer) return `${label}: ${signer.untrusted}`;
  if (!verifySignature(signer.publicKeyPem, row.manifest, row.manifest_signature)) {
    return `${label}: the manifest signature does not verify`;
  }
  return null;
}
