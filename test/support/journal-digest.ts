// A digest of everything the projection decided, for comparing two journals "entry for
// entry and hash for hash": entries with their hashes, lines, chain heads and stored
// offsets, quarantine, duplicates, the raw archive's outcomes and the projection state.
// Times that record when something happened (recorded_at) are observations, left out.
import type { Pool } from '../../src/db/database.ts';

const digestQueries: Record<string, string> = {
  entries: `SELECT count(*) AS n, md5(string_agg(concat_ws('|', entry_id, event_id, event_type, topic, partition,
      "offset", chain_seq, effective_at, booked_period, late, rule, rule_version, encode(payload_sha256, 'hex'),
      encode(prev_hash, 'hex'), encode(entry_hash, 'hex'), line_count), ',' ORDER BY entry_id)) AS digest
    FROM ledger.journal_entries`,
  lines: `SELECT count(*) AS n, md5(string_agg(concat_ws('|', entry_id, line_no, booked_period, effective_at, account,
      side, amount_minor, currency, owner_id, rental_id, driver_id, market, processor), ',' ORDER BY entry_id, line_no))
      AS digest FROM ledger.journal_lines`,
  partitions: `SELECT count(*) AS n, string_agg(concat_ws('|', topic, partition, next_offset, chain_seq,
      encode(chain_head, 'hex')), ',' ORDER BY topic, partition) AS digest FROM ledger.log_partitions`,
  quarantine: `SELECT count(*) AS n, md5(string_agg(concat_ws('|', topic, partition, "offset", event_id, event_type,
      reason, message), ',' ORDER BY topic, partition, "offset")) AS digest FROM ledger.quarantine`,
  duplicates: `SELECT count(*) AS n, md5(string_agg(concat_ws('|', topic, partition, "offset", event_id,
      original_entry_id), ',' ORDER BY topic, partition, "offset")) AS digest FROM ledger.duplicate_deliveries`,
  raw: `SELECT count(*) AS n, md5(string_agg(concat_ws('|', topic, partition, "offset", encode(value_sha256, 'hex'),
      outcome), ',' ORDER BY topic, partition, "offset")) AS digest FROM ledger.raw_messages`,
  // version counts batch writes, which depend on batch boundaries: the content is compared.
  state: `SELECT count(*) AS n, md5(string_agg(concat_ws('|', ref_key, state), ',' ORDER BY ref_key))
      AS digest FROM ledger.projection_state`,
};

export async function journalDigest(pool: Pool): Promise<Record<string, { n: string; digest: string | null }>> {
  const digest: Record<string, { n: string; digest: string | null }> = {};
  for (const [name, sql] of Object.entries(digestQueries)) {
    const result = await pool.query<{ n: string; digest: string | null }>(sql);
    digest[name] = result.rows[0]!;
  }
  return digest;
}
