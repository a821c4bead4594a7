// Projection on worker threads. Parsing, validating, deciding, hashing and encoding a
// batch is CPU work in JavaScript, and one thread cannot keep two cores busy: the main
// thread reads the log and hands each batch to a worker, which projects it exactly as the
// main thread would (projectBatchWithRetries, one transaction on one of the worker's own
// connections). Nothing else changes: the consumer still lets at most one batch of a
// partition be in flight and moves on only past what a committed transaction returned.
import { Worker } from 'node:worker_threads';
import { invariant } from '../errors.ts';
import type { TrustedKeys } from '../signing/trust.ts';
import type { LogMessage, PartitionBatch } from '../log/types.ts';
import { fromThreadError, threadEntryUrl, type ThreadError } from '../threads/thread-errors.ts';
import type { BatchResult } from './project-batch.ts';

export type ProjectorThreads = {
  /** Worker threads, each with batchesInFlightPerThread database connections. */
  readonly count: number;
  readonly databaseUrl: string;
  /** The role the connection works as (createPool); null for the login role. */
  readonly databaseRole: string | null;
  /** The ingest benchmark's baseline only: decide with the defining code instead of the hot path. */
  readonly definingDecisions?: boolean;
};

export const projectorThreadsMax = 16;

/**
 * Batches a thread has in flight at once, each in its own transaction on its own
 * connection (so of different partitions). With one, a thread waits while the server
 * writes its batch; with two, it decides one batch while the server writes the other.
 * On 2 cores, 2 threads × 2 gave 10,400 to 11,600 events/s where 2 × 1 gave 8,400 to
 * 9,500, at less CPU per event (bench/projector.ts, README Benchmarks).
 */
export const batchesInFlightPerThread = 2;

export type WorkerSetup = {
  readonly databaseUrl: string;
  readonly databaseRole: string | null;
  readonly module: string;
  /** Plain data (structured-cloned); each thread makes its own KeyObjects from it once. */
  readonly trustedKeys: TrustedKeys;
  readonly definingDecisions: boolean;
};

/**
 * A batch on its way to a worker: every key, value and header value copied once into one
 * buffer that is transferred, not cloned (a message's Buffer may be a view into a much
 * larger one, which a structured clone would copy whole), with the spans into it.
 */
export type WireBatch = {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: number;
  readonly bytes: Uint8Array;
  /** Per message: offset, timestamp in ms. */
  readonly positions: Float64Array;
  /** Per message: key start, key end, value start, value end; -1 for null. */
  readonly spans: Int32Array;
  /** Per message: its headers as [key, start, end] (start -1: null), or null when none. */
  readonly headers: ReadonlyArray<ReadonlyArray<readonly [string, number, number]> | null>;
};

export type WorkerRequest = { readonly kind: 'batch'; readonly id: number; readonly batch: WireBatch };

export type WorkerReply =
  | { readonly kind: 'result'; readonly id: number; readonly result: BatchResult }
  | { readonly kind: 'error'; readonly id: number; readonly error: ThreadError };

type Pending = { resolve: (result: BatchResult) => void; reject: (error: Error) => void; worker: Worker };

export class BatchWorkers {
  /** Batches each worker has in flight; a worker with fewer than batchesInFlightPerThread can take one. */
  private readonly load = new Map<Worker, number>();
  private readonly waiting: Array<{ resolve: (worker: Worker) => void; reject: (error: Error) => void }> = [];
  private readonly pending = new Map<number, Pending>();
  private readonly all: Worker[] = [];
  private nextId = 1;
  private broken: Error | null = null;

  constructor(threads: ProjectorThreads, trustedKeys: TrustedKeys) {
    invariant(Number.isInteger(threads.count) && threads.count >= 1 && threads.count <= projectorThreadsMax,
      `projector threads between 1 and ${projectorThreadsMax}`);
    const setup: WorkerSetup = {
      databaseUrl: threads.databaseUrl,
      databaseRole: threads.databaseRole,
      trustedKeys,
      definingDecisions: threads.definingDecisions === true,
      module: new URL('./batch-worker.ts', import.meta.url).href,
    };
    for (let index = 0; index < threads.count; index += 1) {
      // execArgv []: the entry registers the TypeScript loader itself, whatever the parent ran with.
      const worker = new Worker(threadEntryUrl, {
        workerData: setup, execArgv: [],
      });
      worker.on('message', (reply: WorkerReply) => this.settle(worker, reply));
      worker.on('error', (error) => this.breakDown(new Error(`projector thread failed: ${error.message}`)));
      worker.on('exit', (code) => {
        if (this.broken === null) this.breakDown(new Error(`projector thread exited (code ${code})`));
      });
      this.all.push(worker);
      this.load.set(worker, 0);
    }
  }

  /** Batches that can be in flight at once: one per connection of every thread. */
  get slots(): number {
    return this.all.length * batchesInFlightPerThread;
  }

  /** Projects the batch on the next free worker; settles as projectBatchWithRetries would. */
  async project(batch: PartitionBatch): Promise<BatchResult> {
    if (this.broken !== null) throw this.broken;
    const wire = toWire(batch);
    const worker = this.leastLoaded() ??
      await new Promise<Worker>((resolve, reject) => this.waiting.push({ resolve, reject }));
    const id = this.nextId++;
    return new Promise<BatchResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      const request: WorkerRequest = { kind: 'batch', id, batch: wire };
      worker.postMessage(request, [wire.bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.broken ??= new Error('projector threads closed');
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  private settle(worker: Worker, reply: WorkerReply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    this.release(worker);
    if (reply.kind === 'result') pending.resolve(reply.result);
    else pending.reject(fromThreadError(reply.error));
  }

  /**
   * The worker with the fewest batches in flight, taken (its load counted); null when all
   * are full. So two batches go to two threads, not to both slots of one.
   */
  private leastLoaded(): Worker | null {
    let best: Worker | null = null;
    let bestLoad = batchesInFlightPerThread;
    for (const [worker, load] of this.load) {
      if (load < bestLoad) {
        best = worker;
        bestLoad = load;
      }
    }
    if (best !== null) this.load.set(best, bestLoad + 1);
    return best;
  }

  /** A batch is done: its slot goes to the longest waiter (every other slot is full then), else is freed. */
  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next !== undefined) next.resolve(worker);
    else this.load.set(worker, (this.load.get(worker) ?? 1) - 1);
  }

  private breakDown(error: Error): void {
    if (this.broken !== null) return;
    this.broken = error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

function toWire(batch: PartitionBatch): WireBatch {
  const count = batch.messages.length;
  let total = 0;
  for (const m of batch.messages) {
    total += (m.key?.length ?? 0) + (m.value?.length ?? 0);
    for (const h of m.headers) total += h.value?.length ?? 0;
  }
  const bytes = new Uint8Array(total);
  const positions = new Float64Array(count * 2);
  const spans = new Int32Array(count * 4);
  const headers: Array<Array<readonly [string, number, number]> | null> = [];
  let at = 0;
  const put = (data: Buffer | null, spanAt: number): void => {
    if (data === null) {
      spans[spanAt] = -1;
      spans[spanAt + 1] = -1;
      return;
    }
    bytes.set(data, at);
    spans[spanAt] = at;
    at += data.length;
    spans[spanAt + 1] = at;
  };
  for (const [index, m] of batch.messages.entries()) {
    positions[index * 2] = m.offset;
    positions[index * 2 + 1] = m.timestampMs;
    put(m.key, index * 4);
    put(m.value, index * 4 + 2);
    if (m.headers.length === 0) {
      headers.push(null);
      continue;
    }
    headers.push(m.headers.map((h) => {
      if (h.value === null) return [h.key, -1, -1] as const;
      const start = at;
      bytes.set(h.value, at);
      at += h.value.length;
      return [h.key, start, at] as const;
    }));
  }
  return { topic: batch.topic, partition: batch.partition, highWatermark: batch.highWatermark, bytes, positions, spans, headers };
}

/** The batch again, on the worker's side: Buffers are views into the one transferred buffer. */
export function fromWire(wire: WireBatch): PartitionBatch {
  const backing = Buffer.from(wire.bytes.buffer, wire.bytes.byteOffset, wire.bytes.byteLength);
  const view = (start: number, end: number): Buffer | null => (start < 0 ? null : backing.subarray(start, end));
  const messages: LogMessage[] = [];
  const count = wire.positions.length / 2;
  for (let index = 0; index < count; index += 1) {
    messages.push({
      topic: wire.topic,
      partition: wire.partition,
      offset: wire.positions[index * 2] as number,
      timestampMs: wire.positions[index * 2 + 1] as number,
      key: view(wire.spans[index * 4] as number, wire.spans[index * 4 + 1] as number),
      value: view(wire.spans[index * 4 + 2] as number, wire.spans[index * 4 + 3] as number),
      headers: (wire.headers[index] ?? []).map(([key, start, end]) => ({ key, value: view(start, end) })),
    });
  }
  return { topic: wire.topic, partition: wire.partition, highWatermark: wire.highWatermark, messages };
}
