// The projector's hot path (src/projector/hot-path.ts) writes the very bytes the defining
// code (project-batch.ts decideBatch, stageStates) writes: every COPY row of every table
// (raw archive, entries with their hashes, lines, quarantine, duplicate deliveries), every
// state, the chain's head. Checked on a generated stream of every event type with every
// rejection reason mixed in, decided batch by batch over partitions as the projector
// decides them (states and posted events carried from batch to batch, so known states
// are updated and redeliveries found), once with no period closed and once with the
// stream's first month closed (late bookings). Plus messages the hot path must leave to
// the defining code: odd JSON, escapes, non-ASCII, timestamps in other zones.
import { describe, expect, it } from 'vitest';
import { StagedCopy, type CopyColumn } from '../../src/db/copy.ts';
import { eventTypes, generateEventStreamWithExpectations } from '../../src/generator/index.ts';
import { approvalKeys } from '../../src/ledger/approval.ts';
import { genesisHash } from '../../src/ledger/entry.ts';
import { rejectionReasons } from '../../src/ledger/rejections.ts';
import { orderingKey } from '../../src/log/keys.ts';
import { partitionForKey } from '../../src/log/partitioner.ts';
import type { LogMessage } from '../../src/log/types.ts';
import { decideBatchHot, handedToDefiningCode, stageStatesHot } from '../../src/projector/hot-path.ts';
import { generateEventStream } from '../../src/generator/index.ts';
import {
  decideBatch, stageStates, type BatchWrites, type PartitionHead,
} from '../../src/projector/project-batch.ts';
import { MemoryDecisionSources } from '../../src/projector/memory-sources.ts';
import { testApprover, testTrustedKeys } from '../support/keys.ts';

const topic = 'marketplace.events';
const partitions = 3;
const batchMessages = 700;
const keys = approvalKeys(testTrustedKeys);
const stateColumns: readonly CopyColumn[] = [['ref_key', 'text'], ['state', 'text'], ['version_read', 'int8']];

type Decide = typeof decideBatch;
type Run = { tables: Map<string, Buffer[]>; heads: PartitionHead[]; types: Set<string> };

/** Decides `lines` batch by batch, partitions taking turns, keeping every encoded byte. */
async function run(lines: readonly string[], decide: Decide, hot: boolean, closed: Set<string>): Promise<Run> {
  const byPartition: LogMessage[][] = Array.from({ length: partitions }, () => []);
  for (const line of lines) {
    const value = Buffer.from(line, 'utf8');
    const key = orderingKey(value);
    const partition = key === null ? 0 : partitionForKey(key, partitions);
    const messages = byPartition[partition] as LogMessage[];
    messages.push({
      topic, partition, offset: messages.length, key, value,
      headers: messages.length % 97 === 0 ? [{ key: 'trace', value: Buffer.from('t') }] : [], timestampMs: 1_790_000_000_000,
    });
  }
  const memory = new MemoryDecisionSources(closed);
  const { sources } = memory;
  const tables = new Map<string, Buffer[]>();
  const keep = (name: string, bytes: Buffer) => tables.set(name, [...(tables.get(name) ?? []), bytes]);
  const heads: PartitionHead[] = byPartition.map(() => ({ nextOffset: 0, chainSeq: 0, chainHead: genesisHash }));
  const types = new Set<string>();
  for (let more = true; more;) {
    more = false;
    for (let partition = 0; partition < partitions; partition += 1) {
      const head = heads[partition] as PartitionHead;
      const messages = (byPartition[partition] as LogMessage[]).slice(head.nextOffset, head.nextOffset + batchMessages);
      if (messages.length === 0) continue;
      more = true;
      const writes: BatchWrites = await decide(sources, messages, head, keys);
      for (const copy of [writes.raw, writes.entries, writes.lines, writes.quarantine, writes.duplicates]) {
        keep(copy.table, copy.encoded());
        copy.discard();
      }
      if (hot) {
        const staged = stageStatesHot(writes.states);
        keep('states created', staged.created.encoded());
        keep('states changed', staged.changed.encoded());
        staged.created.discard();
        staged.changed.discard();
      } else {
        const staged = stageStates(writes.states);
        keep('states created', staged.created.encoded());
        const changed = new StagedCopy('state_batch', stateColumns);
        for (const row of staged.changed) {
          changed.row();
          for (const value of row) changed.value(value);
        }
        keep('states changed', changed.encoded());
        staged.created.discard();
        changed.discard();
      }
      memory.apply(writes);
      for (const event of writes.posted.values()) {
        if (event.position.partition === partition && event.position.offset >= head.nextOffset) {
          const message = messages[event.position.offset - head.nextOffset] as LogMessage;
          types.add((JSON.parse(message.value!.toString('utf8')) as { type: string }).type);
        }
      }
      heads[partition] = writes.head;
    }
  }
  return { tables, heads, types };
}

function expectSameBytes(defining: Run, hot: Run): void {
  expect([...hot.tables.keys()].sort()).toEqual([...defining.tables.keys()].sort());
  for (const [name, chunks] of defining.tables) {
    const mine = hot.tables.get(name) as Buffer[];
    expect(mine.length, name).toBe(chunks.length);
    for (let index = 0; index < chunks.length; index += 1) {
      const same = Buffer.compare(mine[index] as Buffer, chunks[index] as Buffer) === 0;
      expect(same, `${name}, batch ${index}: the hot path's bytes differ from the defining code's`).toBe(true);
    }
  }
  expect(hot.heads).toEqual(defining.heads);
}

/** The quarantine reasons found in a run's quarantine rows. */
function quarantineReasons(run: Run): Set<string> {
  const reasons = new Set<string>();
  for (const chunk of run.tables.get('ledger.quarantine') ?? []) {
    const text = chunk.toString('latin1');
    for (const reason of rejectionReasons) if (text.includes(reason)) reasons.add(reason);
  }
  return reasons;
}

describe('the projector\'s hot path', () => {
  const stream = generateEventStreamWithExpectations({
    seed: 77, rentals: 300, month: '2026-10', badMessages: true, approve: testApprover,
  });

  it('writes the defining code\'s bytes on a stream of every event type and every rejection reason', async () => {
    const defining = await run(stream.lines, decideBatch, false, new Set());
    const hot = await run(stream.lines, decideBatchHot, true, new Set());
    expect(new Set(stream.expectedRejections.map((r) => r.reason))).toEqual(new Set(rejectionReasons));
    expect(quarantineReasons(defining)).toEqual(new Set(rejectionReasons));
    expect(defining.types).toEqual(new Set(eventTypes));
    expect((defining.tables.get('states changed') ?? []).some((chunk) => chunk.length > 21)).toBe(true);
    expect((defining.tables.get('ledger.duplicate_deliveries') ?? []).some((chunk) => chunk.length > 21)).toBe(true);
    expectSameBytes(defining, hot);
  });

  it('writes the same bytes when the stream\'s month is closed (every entry booked late)', async () => {
    const closed = new Set(['2026-10']);
    expectSameBytes(await run(stream.lines, decideBatch, false, closed), await run(stream.lines, decideBatchHot, true, closed));
  });

  it('reads every message of a clean stream itself, but adjustments, processor payouts and tax remittances', async () => {
    const lines = generateEventStream({ seed: 78, rentals: 200, month: '2026-10', approve: testApprover });
    const left = lines.filter((line) => /"type":"(adjustment\.posted|processor\.payout|tax\.remitted)"/.test(line)).length;
    const before = handedToDefiningCode.messages;
    await run(lines, decideBatchHot, true, new Set());
    expect(left).toBeGreaterThan(0);
    expect(handedToDefiningCode.messages - before).toBe(left);
  });

  it('reads messages itself whatever their whitespace and the order of their members, with the same bytes', async () => {
    const lines = generateEventStream({ seed: 79, rentals: 40, month: '2026-10', approve: testApprover })
      .filter((line) => !/"type":"(adjustment\.posted|processor\.payout|tax\.remitted)"/.test(line));
    const reordered = lines.map((line, index) => {
      const event = JSON.parse(line) as Record<string, unknown> & { data: Record<string, unknown> };
      const data = Object.fromEntries(Object.entries(event.data).reverse());
      const members = Object.entries({ ...event, data }).reverse();
      return index % 2 === 0 ? JSON.stringify(Object.fromEntries(members), null, 2).replaceAll('\n', '\r\n')
        : ` \t${JSON.stringify(Object.fromEntries(members), null, '\t')}\n`;
    });
    const before = handedToDefiningCode.messages;
    const hot = await run(reordered, decideBatchHot, true, new Set());
    expect(handedToDefiningCode.messages - before).toBe(0);
    expectSameBytes(await run(reordered, decideBatch, false, new Set()), hot);
  });

  it('leaves to the defining code what it does not read itself, with the same bytes', async () => {
    const captured = stream.lines.find((line) => line.includes('"payment.captured"')) as string;
    const event = JSON.parse(captured) as Record<string, unknown> & { data: Record<string, unknown> };
    const variants = [
      { ...event, occurred_at: '2026-10-05T10:00:00+02:00' },
      { ...event, occurred_at: '2026-10-05T10:00:00.5Z' },
      { ...event, occurred_at: '2026-10-05t10:00:00Z' },
      { ...event, event_id: (event.event_id as string).toUpperCase() },
      { ...event, producer: 'prödücer "q"\n' },
      { ...event, extra: { nested: [1, 2.5, -0, 1e21] } },
      { ...event, data: { ...event.data, note: 'café ☕ \u0001 "quoted" \\ \ud83d\ude00', z: null, a: [true, false, 3] } },
      { ...event, data: { ...event.data, payment_id: 'pay_odd_1', total: '592.0' } },
      { ...event, data: { ...event.data, payment_id: 'pay_odd_2', total: '0592.00', rental_amount: '0300.00' } },
      { ...event, data: { ...event.data, payment_id: 'pay_odd_3', total: '592.000' } },
      { ...event, data: { ...event.data, payment_id: 'pay_odd_4', total: '5.92e2' } },
      { ...event, data: { ...event.data, payment_id: 'pay_odd_5', total: '99999999999999999.00' } },
      { ...event, data: { ...event.data, payment_id: 'pay_odd_6', market: '' } },
    ].map((value) => JSON.stringify(value));
    const raw = [
      captured.replace('"schema_version":1', '"schema_version":1.0'),
      captured.replace('"schema_version":1', '"schema_version" : 1 '),
      captured.replace('{', '{"data":{"schema_version":2},'),
      captured.replace('"rental_amount"', '"rental_amount":"1e400","x"'),
      captured.replace('"schema_version":1', '"schema_version":10'),
      captured.replace('"schema_version":1', '"schema_version":"1"'),
      captured.replace('"schema_version":1', '"schema_version":1,"schema_version":1'),
      captured.replace('"producer":', '"producer":"twice","producer":'),
      captured.replace('"currency":"USD"', '"currency":"USD","currency":"USD"').replace('"currency":"CAD"', '"currency":"CAD","currency":"CAD"'),
      captured.replace('"total":', '"__proto__":"x","total":'),
      captured.replace('"total":', '"extra":"x","total":'),
      // Posted (an event and payment of its own), so its payload hash reaches the entry's row:
      // extra members whose names extend or shorten a field's sort around it.
      captured.replace(/"event_id":"[^"]*"/, '"event_id":"0a0b0c0d-0e0f-4011-9213-141516171819"')
        .replace(/"payment_id":"[^"]*"/, '"payment_id":"pay_prefix_names"')
        .replace('"total":', '"tax_note":"x","ta":"y","t":"z","total":'),
      // Posted, at a time whose microseconds since 2000 are beyond a double's exact integers.
      captured.replace(/"event_id":"[^"]*"/, '"event_id":"0a0b0c0d-0e0f-4011-9213-141516171820"')
        .replace(/"payment_id":"[^"]*"/, '"payment_id":"pay_far_year"')
        .replace(/"occurred_at":"[^"]*"/, '"occurred_at":"1500-06-15T12:00:00.000001Z"'),
      captured.replace(/"tax":"[0-9.]+",/, ''),
      captured.replace(/"tax":"([0-9.]+)"/, '"tax":$1'),
      captured.replace(/"market":"[^"]*"/, '"market":"US\\u002dCA"'),
      captured.replace(/"market":"[^"]*"/, '"market":"US\tCA"'),
      captured.replace(/"currency":"[A-Z]+"/, '"currency":"EUR"'),
      captured.replace(/"event_id":"[^"]*"/, '"event_id":"{0a0b0c0d-0e0f-1011-1213-141516171819}"'),
      captured.replace(/"occurred_at":"[^"]*"/, '"occurred_at":"2026-02-29T10:00:00Z"'),
      captured.replace(/"occurred_at":"[^"]*"/, '"occurred_at":"2024-02-29T10:00:00Z"'),
      captured.replace(/"occurred_at":"[^"]*"/, '"occurred_at":"2026-10-05T10:00:00.1234567891Z"'),
      captured.replace(/"occurred_at":"[^"]*"/, '"occurred_at":"2026-10-05T10:00:00.123456789Z"'),
      captured.replace(/"type":"[^"]*"/, '"type":"payment.Captured"'),
      `\ufeff${captured}`,
      `${captured}x`,
      captured.replace('}}', '},}'),
      '{"event_id": ',
      '[]',
      'null',
    ];
    const lines = [...variants, ...raw, captured, captured];
    expectSameBytes(await run(lines, decideBatch, false, new Set()), await run(lines, decideBatchHot, true, new Set()));
  });
});
