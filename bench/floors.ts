// The least each side of the ingest path can cost per event, measured apart, so that the
// benchmarks can say what bound they set on two cores (README, "Benchmarks"):
//
// - decisions: the projector's own code on the events, with nothing but memory beside it:
//   parse and validate, the rules, the four digests, the entry's hash, every row encoded
//   for COPY, the changed states encoded. Lookups answer from maps; nothing is sent.
// - journal schema: PostgreSQL writing the very rows a run wrote into the journal's own
//   tables (their indexes, constraints and triggers), by COPY, a transaction per batch as
//   the projector commits them, on as many connections as it writes on. No lookups, no
//   locks, no state updates.
//
// Neither path can be skipped by a projector that keeps the contract, so their sum is a
// floor under its CPU per event, and two cores divided by it a ceiling on events/s.
import os from 'node:os';
import v8 from 'node:v8';
import { limits } from '../src/limits.ts';
import { orderingKey } from '../src/log/keys.ts';
import { partitionForKey } from '../src/log/partitioner.ts';
import type { LogMessage } from '../src/log/types.ts';
import { approvalKeys } from '../src/ledger/approval.ts';
import { genesisHash } from '../src/ledger/entry.ts';
import type { Pool } from '../src/db/database.ts';
import { sendCopy } from '../src/db/copy.ts';
import {
  batchWorkMem, decideBatch, stageStates, type DecisionPath, type PartitionHead,
} from '../src/projector/project-batch.ts';
import { decideBatchHot, stageStatesHot } from '../src/projector/hot-path.ts';
import { MemoryDecisionSources } from '../src/projector/memory-sources.ts';
import { backendCpuUs, benchTrustedKeys, copyOut, nowMs, projectorConnections } from './support.ts';

export type Floor = { ms: number; cpuUsPerEvent: number; heapBytesPerEvent?: number };



/**
 * The projector's decisions and encoding for `lines` (as published: keyed, partitioned as
 * Kafka's default partitioner), on this thread, batch by batch as the projector reads
 * them, partitions taking turns. CPU is this process's: the thread and V8's helpers.
 */
export async function decisionFloor(
  topic: string, partitions: number, lines: readonly string[], path: DecisionPath = 'hot',
): Promise<Floor> {
  const decide = path === 'hot' ? decideBatchHot : decideBatch;
  const byPartition: LogMessage[][] = Array.from({ length: partitions }, () => []);
  for (const line of lines) {
    const value = Buffer.from(line, 'utf8');
    const key = orderingKey(value);
    const partition = key === null ? 0 : partitionForKey(key, partitions);
    const messages = byPartition[partition] as LogMessage[];
    messages.push({ topic, partition, offset: messages.length, key, value, headers: [], timestampMs: 1_790_000_000_000 });
  }
  const memory = new MemoryDecisionSources();
  const { sources } = memory;
  const keys = approvalKeys(benchTrustedKeys);
  const heads: PartitionHead[] = byPartition.map(() => ({ nextOffset: 0, chainSeq: 0, chainHead: genesisHash }));
  const allocation = new HeapAllocation();
  const cpuBefore = process.cpuUsage();
  const started = nowMs();
  for (let more = true; more;) {
    more = false;
    for (let partition = 0; partition < partitions; partition += 1) {
      const head = heads[partition] as PartitionHead;
      const messages = (byPartition[partition] as LogMessage[]).slice(head.nextOffset, head.nextOffset + limits.batchMessagesMax);
      if (messages.length === 0) continue;
      more = true;
      const writes = await decide(sources, messages, head, keys);
      if (path === 'hot') {
        const staged = stageStatesHot(writes.states);
        staged.created.discard();
        staged.changed.discard();
      } else {
        stageStates(writes.states).created.discard();
      }
      for (const copy of [writes.raw, writes.entries, writes.lines, writes.quarantine, writes.duplicates]) {
        copy.discard();
      }
      memory.apply(writes);
      heads[partition] = writes.head;
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  const ms = nowMs() - started;
  return { ms, cpuUsPerEvent: (cpu.user + cpu.system) / lines.length, heapBytesPerEvent: allocation.stop() / lines.length };
}

/**
 * Bytes allocated on V8's heap from construction to stop(): what is in use at the end,
 * less what was at the start, plus what each garbage collection freed (v8.GCProfiler).
 */
class HeapAllocation {
  private readonly profiler = new v8.GCProfiler();
  private readonly usedBefore: number;

  constructor() {
    this.usedBefore = v8.getHeapStatistics().used_heap_size;
    this.profiler.start();
  }

  stop(): number {
    const usedAfter = v8.getHeapStatistics().used_heap_size;
    const report = this.profiler.stop() as unknown as {
      statistics: Array<{ beforeGC: { heapStatistics: { usedHeapSize: number } }; afterGC: { heapStatistics: { usedHeapSize: number } } }>;
    };
    let freed = 0;
    for (const gc of report.statistics) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    return usedAfter - this.usedBefore + freed;
  }
}

/**
 * The rows a projector run wrote (in `source`), COPYed into the empty journal of `target`
 * the way the projector writes them: a transaction per batch (the messages of one
 * partition's run of limits.batchMessagesMax offsets, with their entries, lines and
 * quarantine records, and a share of the states), the batches spread over `connections`
 * connections; the duplicate deliveries after them. Only the writes: no lookups, no
 * locks, no state updates. CPU is that of the backends doing the writes.
 */
export async function journalSchemaFloor(source: Pool, target: Pool, connections: number, events: number): Promise<Floor> {
  const periods = await source.query<{ period: string }>(
    `SELECT DISTINCT to_char(booked_period, 'YYYY-MM-DD') AS period FROM ledger.journal_entries`);
  for (const { period } of periods.rows) await target.query('SELECT ledger.ensure_line_partition($1::date)', [period]);
  const groups = await source.query<{ partition: number; batch: number }>(
    `SELECT DISTINCT partition, "offset" / ${limits.batchMessagesMax} AS batch FROM ledger.raw_messages ORDER BY 2, 1`);
  const batches: Array<Array<{ table: string; bytes: Buffer[] }>> = [];
  for (const [index, { partition, batch }] of groups.rows.entries()) {
    const inBatch = (alias: string) =>
      `${alias}.partition = ${partition} AND ${alias}."offset" / ${limits.batchMessagesMax} = ${batch}`;
    const selects: Array<[string, string]> = [
      ['raw_messages', `SELECT * FROM ledger.raw_messages t WHERE ${inBatch('t')}`],
      ['journal_entries', `SELECT * FROM ledger.journal_entries t WHERE ${inBatch('t')}`],
      ['journal_lines', `SELECT l.* FROM ledger.journal_entries t JOIN ledger.journal_lines l USING (entry_id)
        WHERE ${inBatch('t')}`],
      ['quarantine', `SELECT * FROM ledger.quarantine t WHERE ${inBatch('t')}`],
      ['projection_state', `SELECT * FROM ledger.projection_state t
        WHERE abs(hashtext(t.ref_key)) % ${groups.rows.length} = ${index}`],
    ];
    const tables: Array<{ table: string; bytes: Buffer[] }> = [];
    for (const [table, select] of selects) tables.push({ table, bytes: await copyOut(source, select) });
    batches.push(tables);
  }
  // A duplicate delivery points at an entry that may be in a batch still in flight on
  // another connection, where the foreign key would not see it: these few rows (one in a
  // hundred here) go last, in a transaction of their own.
  const duplicates = await copyOut(source, 'SELECT * FROM ledger.duplicate_deliveries');
  // CPU of the backends doing the writes only: the server's background processes
  // (autovacuum analysing the run's tables, the checkpointer) are not the journal's floor.
  let cpuUs = 0;
  const started = nowMs();
  let next = 0;
  await Promise.all(Array.from({ length: connections }, async () => {
    const client = await target.connect();
    try {
      const before = await backendCpuUs(client);
      for (let batch = batches[next++]; batch !== undefined; batch = batches[next++]) {
        await client.query('BEGIN');
        await client.query(`SET LOCAL work_mem = '${batchWorkMem}'`); // as the projector's batches
        for (const { table, bytes } of batch) {
          await sendCopy(client, `COPY ledger.${table} FROM STDIN (FORMAT binary)`, bytes);
        }
        await client.query('COMMIT');
      }
      cpuUs += (await backendCpuUs(client)) - before;
    } finally {
      client.release();
    }
  }));
  const client = await target.connect();
  try {
    const before = await backendCpuUs(client);
    await sendCopy(client, 'COPY ledger.duplicate_deliveries FROM STDIN (FORMAT binary)', duplicates);
    cpuUs += (await backendCpuUs(client)) - before;
  } finally {
    client.release();
  }
  return { ms: nowMs() - started, cpuUsPerEvent: cpuUs / events };
}

/** The two floors above, and the ceiling their sum sets on this machine's cores. */
export function floorLines(decisions: Floor, schema: Floor, definingDecisions?: Floor): string[] {
  const cores = os.cpus().length;
  const floorUs = decisions.cpuUsPerEvent + schema.cpuUsPerEvent;
  const kb = (floor: Floor) => `${((floor.heapBytesPerEvent ?? 0) / 1024).toFixed(1)} KB allocated per event`;
  return [
    `floor, the decisions alone on the hot path (parse, rules, hashes, rows encoded; one thread, no database): ` +
      `${decisions.cpuUsPerEvent.toFixed(0)} µs CPU per event, ${kb(decisions)} (${decisions.ms} ms)`,
    ...(definingDecisions === undefined ? [] : [
      `baseline, the same decisions by the defining code (project-batch.ts decideBatch), same run: ` +
        `${definingDecisions.cpuUsPerEvent.toFixed(0)} µs CPU per event, ${kb(definingDecisions)} (${definingDecisions.ms} ms); ` +
        `ratio hot/defining ${(decisions.cpuUsPerEvent / definingDecisions.cpuUsPerEvent).toFixed(2)} (target ≤ 45 µs, ≤ 4 KB)`,
    ]),
    `floor, the journal's tables alone (COPY of the same rows into them, their indexes, checks and ` +
      `triggers, on ${projectorConnections} connections): ${schema.cpuUsPerEvent.toFixed(0)} µs PostgreSQL CPU per event (${schema.ms} ms)`,
    `ceiling those floors set on ${cores} cores: ${Math.round((cores * 1_000_000) / floorUs)} events/s ` +
      `(${floorUs.toFixed(0)} µs per event)`,
  ];
}
