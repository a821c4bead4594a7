// Events per second from the embedded log to the committed, hashed journal, against a
// baseline in the same run: a plain COPY of the same rows the projector wrote (every
// table, read back after the run) into bare tables with no index, trigger or constraint,
// on as many connections as the projector writes on (support.ts sameRowsBaseline).
import path from 'node:path';
import { generateEventStream } from '../src/generator/index.ts';
import { openEmbeddedLog } from '../src/log/embedded/index.ts';
import { publishLines } from '../src/log/publish.ts';
import { runProjector } from '../src/projector/projector.ts';
import { decisionFloor, floorLines, journalSchemaFloor } from './floors.ts';
import {
  benchApprover, benchDatabase, benchTrustedKeys, cpuPerItemLine, cpuSnapshot, nowMs, oneRowPerEventCopy, perSecond, profiled, projectorConnections,
  projectorThreads, sameRowsBaseline,
} from './support.ts';

const eventsWanted = 200_000;
const partitions = 6;
const topic = 'marketplace.events';

export async function benchProjector(): Promise<void> {
  const lines = generateEventStream({ seed: 42, rentals: 26_000, month: '2026-10', approve: benchApprover })
    .slice(0, eventsWanted);
  const db = await benchDatabase();
  try {
    const log = openEmbeddedLog(path.join(db.dataDir, 'log'));
    await publishLines(log.producer, topic, partitions, lines);
    await log.producer.close();
    const oneRowMs = await oneRowPerEventCopy(db.adminPool, topic, partitions, lines);
    // The baseline of the hot path: the same projector deciding with the defining code,
    // into a database of its own, on the same server, in the same run.
    const definingDb = await db.sibling('defining');
    const definingConsumer = log.consumer();
    const definingCpuBefore = await cpuSnapshot(db.adminPool);
    const definingStarted = nowMs();
    const definingResult = await runProjector({
      pool: definingDb.pool, consumer: definingConsumer, topics: [topic], follow: false, signal: new AbortController().signal,
      trustedKeys: benchTrustedKeys,
      threads: { count: projectorThreads, databaseUrl: definingDb.serviceUrl, databaseRole: null, definingDecisions: true },
    });
    const definingMs = nowMs() - definingStarted;
    const definingCpuAfter = await cpuSnapshot(db.adminPool);
    await definingConsumer.close();
    await definingDb.adminPool.query('VACUUM (ANALYZE)');
    const consumer = log.consumer();
    const cpuBefore = await cpuSnapshot(db.adminPool);
    const started = nowMs();
    const result = await profiled(() => runProjector({
      pool: db.pool, consumer, topics: [topic], follow: false, signal: new AbortController().signal,
      trustedKeys: benchTrustedKeys,
      threads: { count: projectorThreads, databaseUrl: db.serviceUrl, databaseRole: null },
    }));
    const projectorMs = nowMs() - started;
    const cpuAfter = await cpuSnapshot(db.adminPool);
    await consumer.close();
    if (definingResult.posted !== result.posted || definingResult.quarantined !== result.quarantined) {
      throw new Error(`the hot path and the defining code disagree: ${result.posted} vs ${definingResult.posted} entries`);
    }
    const size = await db.pool.query<{ lines: string; bytes: string }>(`SELECT
        (SELECT count(*) FROM ledger.journal_lines) AS lines,
        pg_size_pretty(pg_database_size(current_database())) AS bytes`);
    // The run's rows are vacuumed and analysed now, so autovacuum does not do it during
    // the measurements below (it took one core for seconds, moving them by half).
    await db.adminPool.query('VACUUM (ANALYZE)');
    const baseline = await sameRowsBaseline(db.adminPool, projectorConnections);
    const schemaFloor = await journalSchemaFloor(db.adminPool, (await db.sibling('floor')).pool, projectorConnections, lines.length);
    const definingDecisions = await decisionFloor(topic, partitions, lines, 'defining');
    const decisions = await decisionFloor(topic, partitions, lines, 'hot');
    const eventsPerSecond = perSecond(lines.length, projectorMs);
    const baselinePerSecond = perSecond(lines.length, baseline.ms);
    const oneRowPerSecond = perSecond(lines.length, oneRowMs);
    process.stdout.write([
      `data: ${lines.length} events over ${partitions} partitions → ${result.posted} entries, ` +
        `${size.rows[0]?.lines} lines, ${result.duplicates} duplicates, ${result.quarantined} quarantined; ` +
        `database ${size.rows[0]?.bytes}`,
      `projector (${projectorThreads} threads, ${projectorConnections} batches in flight): ${projectorMs} ms, ${eventsPerSecond} events/s`,
      `baseline: COPY of the same ${baseline.rows} rows (${baseline.rowsByTable}) into bare tables on ` +
        `${projectorConnections} connections: ${baseline.ms} ms, ${baselinePerSecond} events/s`,
      `ratio projector/baseline: ${(eventsPerSecond / baselinePerSecond).toFixed(2)}`,
      `reference: COPY of one row per event (position and bytes) on one connection: ${oneRowMs} ms, ` +
        `${oneRowPerSecond} rows/s; ratio ${(eventsPerSecond / oneRowPerSecond).toFixed(2)}`,
      cpuPerItemLine(cpuBefore, cpuAfter, lines.length, 'event') + ' (target ≤ 110 µs)',
      `baseline, the same projector deciding with the defining code (same run, own database): ${definingMs} ms, ` +
        `${perSecond(lines.length, definingMs)} events/s; ` + cpuPerItemLine(definingCpuBefore, definingCpuAfter, lines.length, 'event'),
      ...floorLines(decisions, schemaFloor, definingDecisions),
    ].join('\n') + '\n');
  } finally {
    await db.close();
  }
}
