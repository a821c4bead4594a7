// The least each side of the ingest path can cost per event, measured apart, so that the
// benchmarks can say what bound they set on two cores (README, "Benchmarks"):
//
// - decisions: the projector's own code on the events, with nothing but memory beside it:
//   parse and validate, the rules, the four digests, the entry's hash, every row encoded
//   for COPY, the changed states encoded. Lookups answer from maps; nothing is sent.
// - journal schema: PostgreSQL writing the very rows a run wrote into the journal's own
//   tables (their indexes, constraints and triggers), by COPY, on as many connections as
//   the projector writes on. No lookups, no state updates, no round trips per batch.
//
// Neither path can be skipped by a projector that keeps the contract, so their sum is a
// floor under its CPU per event, and two cores divided by it a ceiling on events/s.
import os from 'node:os';
import { limits } from '../src/limits.ts';
import { orderingKey } from '../src/log/keys.ts';
import { partitionForKey } from '../src/log/partitioner.ts';
import type { LogMessage } from '../src/log/types.ts';
import type { PostedEvent } from '../src/ledger/project.ts';
import { genesisHash } from '../src/ledger/entry.ts';
import type { Pool } from '../src/db/database.ts';
import { sendCopy } from '../src/db/copy.ts';
import {
  decideBatch, stageStates, type DecisionSources, type PartitionHead, type StateSlot,
} from '../src/projector/project-batch.ts';
import { copyOut, cpuSnapshot, nowMs, projectorConnections } from './support.ts';

export type Floor = { ms: number; cpuUsPerEvent: number };

/**
 * The projector's decisions and encoding for `lines` (as published: keyed, partitioned as
 * Kafka's default partitioner), on this thread, batch by batch as the projector reads
 * them, partitions taking turns. CPU is this process's: the thread and V8's helpers.
 */
export async function decisionFloor(topic: string, partitions: number, lines: readonly string[]): Promise<Floor> {
  const byPartition: LogMessage[][] = Array.from({ length: partitions }, () => []);
  for (const line of lines) {
    const value = Buffer.from(line, 'utf8');
    const key = orderingKey(value);
    const partition = key === null ? 0 : partitionForKey(key, partitions);
    const messages = byPartition[partition] as LogMessage[];
    messages.push({ topic, partition, offset: messages.length, key, value, headers: [], timestampMs: 1_790_000_000_000 });
  }
  const posted = new Map<string, PostedEvent>();
  const states = new Map<string, { state: StateSlot['state']; version: number }>();
  const sources: DecisionSources = {
    closedPeriods: async () => new Set(),
    async postedEvents(eventIds, into) {
      for (const id of eventIds) {
        const event = posted.get(id);
        if (event !== undefined) into.set(id, event);
      }
    },
    async states(keys, into) {
      for (const key of keys) {
        const slot = states.get(key);
        if (slot !== undefined) into.set(key, { ...slot, dirty: false });
      }
    },
  };
  const heads: PartitionHead[] = byPartition.map(() => ({ nextOffset: 0, chainSeq: 0, chainHead: genesisHash }));
  const cpuBefore = process.cpuUsage();
  const started = nowMs();
  for (let more = true; more;) {
    more = false;
    for (let partition = 0; partition < partitions; partition += 1) {
      const head = heads[partition] as PartitionHead;
      const messages = (byPartition[partition] as LogMessage[]).slice(head.nextOffset, head.nextOffset + limits.batchMessagesMax);
      if (messages.length === 0) continue;
      more = true;
      const writes = await decideBatch(sources, messages, head);
      const staged = stageStates(writes.states);
      for (const copy of [writes.raw, writes.entries, writes.lines, writes.quarantine, writes.duplicates, staged.created]) {
        copy.discard();
      }
      for (const [key, slot] of writes.states) {
        if (slot.dirty) states.set(key, { state: slot.state, version: slot.version + 1 });
      }
      for (const [id, event] of writes.posted) posted.set(id, event);
      heads[partition] = writes.head;
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { ms: nowMs() - started, cpuUsPerEvent: (cpu.user + cpu.system) / lines.length };
}

/**
 * The rows a projector run wrote (in `source`), COPYed into the empty journal of `target`
 * on `connections` connections, each in one transaction. An entry's lines and the
 * deliveries that point at it go on the entry's connection, so that the lines' trigger
 * and the foreign key find it. CPU is the server's.
 */
export async function journalSchemaFloor(source: Pool, target: Pool, connections: number, events: number): Promise<Floor> {
  const periods = await source.query<{ period: string }>(
    `SELECT DISTINCT to_char(booked_period, 'YYYY-MM-DD') AS period FROM ledger.journal_entries`);
  for (const { period } of periods.rows) await target.query('SELECT ledger.ensure_line_partition($1::date)', [period]);
  const shareOf: Record<string, string> = {
    raw_messages: 'hashtext(t::text)',
    journal_entries: 'hashtext(t.entry_id::text)',
    journal_lines: 'hashtext(t.entry_id::text)',
    quarantine: 'hashtext(t::text)',
    duplicate_deliveries: 'hashtext(t.original_entry_id::text)',
    projection_state: 'hashtext(t::text)',
  };
  const shares: Array<Array<{ table: string; bytes: Buffer[] }>> = [];
  for (let share = 0; share < connections; share += 1) {
    const tables: Array<{ table: string; bytes: Buffer[] }> = [];
    for (const [table, hash] of Object.entries(shareOf)) {
      tables.push({ table, bytes: await copyOut(source,
        `SELECT * FROM ledger.${table} t WHERE abs(${hash}) % ${connections} = ${share}`) });
    }
    shares.push(tables);
  }
  const cpuBefore = await cpuSnapshot(target);
  const started = nowMs();
  await Promise.all(shares.map(async (tables) => {
    const client = await target.connect();
    try {
      await client.query('BEGIN');
      for (const { table, bytes } of tables) {
        await sendCopy(client, `COPY ledger.${table} FROM STDIN (FORMAT binary)`, bytes);
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }));
  const ms = nowMs() - started;
  const cpuAfter = await cpuSnapshot(target);
  return { ms, cpuUsPerEvent: (cpuAfter.postgresUs - cpuBefore.postgresUs) / events };
}

/** The two floors above, and the ceiling their sum sets on this machine's cores. */
export function floorLines(decisions: Floor, schema: Floor): string[] {
  const cores = os.cpus().length;
  const floorUs = decisions.cpuUsPerEvent + schema.cpuUsPerEvent;
  return [
    `floor, the decisions alone (parse, rules, hashes, rows encoded; one thread, no database): ` +
      `${decisions.cpuUsPerEvent.toFixed(0)} µs CPU per event (${decisions.ms} ms)`,
    `floor, the journal's tables alone (COPY of the same rows into them, their indexes, checks and ` +
      `triggers, on ${projectorConnections} connections): ${schema.cpuUsPerEvent.toFixed(0)} µs PostgreSQL CPU per event (${schema.ms} ms)`,
    `ceiling those floors set on ${cores} cores: ${Math.round((cores * 1_000_000) / floorUs)} events/s ` +
      `(${floorUs.toFixed(0)} µs per event)`,
  ];
}
