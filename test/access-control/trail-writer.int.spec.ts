// The trail records reads append before responding (a lineage page, an event, a
// download) are committed in shared batches when they arrive together: each caller's
// promise settles only once its own record is committed, the chain stays linear and
// verifiable, and a record the database refuses fails alone, not the records beside it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTrail, type TrailRecord } from '../../src/access-control/trail.ts';
import { TrailWriter } from '../../src/access-control/trail-writer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('trail writer', () => {
  let db: TestDatabase;
  const record = (n: number, action = 'lineage.read'): TrailRecord => ({ at: new Date('2026-12-07T09:00:00.000Z'),
    actor: `reader_${n}`, action, object: `fig_${n}`, grantId: null, source: '127.0.0.1', detail: { n } });

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  it('commits every concurrent record once, in one linear chain, before its caller hears back', async () => {
    const writer = new TrailWriter(db.pool);
    const counted = async () => Number((await db.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM access.audit_trail')).rows[0]?.n);
    const before = await counted();
    await Promise.all(Array.from({ length: 60 }, async (_, n) => {
      await writer.append(record(n));
      // Settled means committed: another connection already sees the row.
      const seen = await db.pool.query('SELECT 1 FROM access.audit_trail WHERE object = $1', [`fig_${n}`]);
      expect(seen.rowCount).toBe(1);
    }));
    expect(await counted()).toBe(before + 60);
    const verified = await verifyTrail(db.pool);
    expect(verified.problems).toEqual([]);
    expect(verified.rows).toBe(before + 60);
  });

  it('fails only the record the database refuses, not those committed with it', async () => {
    const writer = new TrailWriter(db.pool);
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, n) =>
      writer.append(record(100 + n, n === 5 ? 'Not An Action' : 'lineage.read'))));
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 12 }, (_, n) => (n === 5 ? 'rejected' : 'fulfilled')));
    const kept = await db.pool.query<{ object: string }>(
      `SELECT object FROM access.audit_trail WHERE actor LIKE 'reader_1__' ORDER BY seq`);
    expect(kept.rows.map((r) => r.object).sort()).toEqual(
      Array.from({ length: 12 }, (_, n) => `fig_${100 + n}`).filter((o) => o !== 'fig_105').sort());
    expect((await verifyTrail(db.pool)).problems).toEqual([]);
  });
});
