// Events per second from the embedded log to the committed, hashed journal, against a
// baseline in the same run: a plain COPY of the same number of rows (the raw messages'
// position and bytes) into a bare table with no index, trigger or constraint.
import path from 'node:path';
import { generateEventStream } from '../src/generator/index.ts';
import { openEmbeddedLog } from '../src/log/embedded/index.ts';
import { publishLines } from '../src/log/publish.ts';
import { runProjector } from '../src/projector/projector.ts';
import {
  benchDatabase, copyBaseline, cpuPerItemLine, cpuSnapshot, nowMs, perSecond, profiled,
} from './support.ts';

const eventsWanted = 200_000;
const partitions = 6;
const topic = 'marketplace.events';

export async function benchProjector(): Promise<void> {
  const lines = generateEventStream({ seed: 42, rentals: 26_000, month: '2026-10' }).slice(0, eventsWanted);
  const db = await benchDatabase();
  try {
    const log = openEmbeddedLog(path.join(db.dataDir, 'log'));
    await publishLines(log.producer, topic, partitions, lines);
    await log.producer.close();
    const baselineMs = await copyBaseline(db.adminPool, topic, partitions, lines);
    const consumer = log.consumer();
    const cpuBefore = await cpuSnapshot(db.adminPool);
    const started = nowMs();
    const result = await profiled(() => runProjector({
      pool: db.pool, consumer, topics: [topic], follow: false, signal: new AbortController().signal,
      // As `ledger project` runs it: two projector threads (config.ts LEDGER_PROJECTOR_THREADS).
      threads: { databaseUrl: db.url, databaseRole: 'ledger_writer' },
    }));
    const projectorMs = nowMs() - started;
    const cpuAfter = await cpuSnapshot(db.adminPool);
    await consumer.close();
    const size = await db.pool.query<{ lines: string; bytes: string }>(`SELECT
        (SELECT count(*) FROM ledger.journal_lines) AS lines,
        pg_size_pretty(pg_database_size(current_database())) AS bytes`);
    const eventsPerSecond = perSecond(lines.length, projectorMs);
    const baselinePerSecond = perSecond(lines.length, baselineMs);
    process.stdout.write([
      `data: ${lines.length} events over ${partitions} partitions → ${result.posted} entries, ` +
        `${size.rows[0]?.lines} lines, ${result.duplicates} duplicates, ${result.quarantined} quarantined; ` +
        `database ${size.rows[0]?.bytes}`,
      `baseline: COPY ${lines.length} rows into a bare table: ${baselineMs} ms, ${baselinePerSecond} rows/s`,
      `projector: ${projectorMs} ms, ${eventsPerSecond} events/s`,
      `ratio projector/baseline: ${(eventsPerSecond / baselinePerSecond).toFixed(2)}`,
      cpuPerItemLine(cpuBefore, cpuAfter, lines.length, 'event'),
    ].join('\n') + '\n');
  } finally {
    await db.close();
  }
}
