// Group commit for the trail records a read appends on its own (a lineage page, an event,
// a download): the chain is linear, so appenders take one lock in turn, and one commit
// (with its fsync) per record capped every such route at one request per commit. Here the
// records that arrive while a batch commits wait together and go in the next batch: one
// lock, one INSERT, one commit for all of them. Each caller still gets its promise only
// after its record is committed, so nothing is served before it is recorded.
import { withTransaction, type Pool } from '../db/database.ts';
import { appendTrailRecords, type TrailRecord } from './trail.ts';

/** Records per transaction: bounds the INSERT's parameters (10 a record). */
const batchRecordsMax = 200;

type Waiting = { record: TrailRecord; resolve: () => void; reject: (error: unknown) => void };

export class TrailWriter {
  private waiting: Waiting[] = [];
  private writing = false;

  constructor(private readonly pool: Pool) {}

  /** Resolves once the record is committed; rejects if it could not be. */
  append(record: TrailRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ record, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, batchRecordsMax);
        try {
          await withTransaction(this.pool, (client) => appendTrailRecords(client, batch.map((w) => w.record)));
          for (const w of batch) w.resolve();
        } catch (error) {
          // One record the database refuses must not fail the others: each alone, then.
          if (batch.length === 1) (batch[0] as Waiting).reject(error);
          else await this.eachAlone(batch);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async eachAlone(batch: readonly Waiting[]): Promise<void> {
    for (const w of batch) {
      try {
        await withTransaction(this.pool, (client) => appendTrailRecords(client, [w.record]));
        w.resolve();
      } catch (error) {
        w.reject(error);
      }
    }
  }
}

const writers = new WeakMap<Pool, TrailWriter>();

/** The pool's one writer: one batch in flight per process (the lock orders processes). */
export function trailWriterFor(pool: Pool): TrailWriter {
  let writer = writers.get(pool);
  if (writer === undefined) {
    writer = new TrailWriter(pool);
    writers.set(pool, writer);
  }
  return writer;
}
