// One read of each streamed section shared by several renderings running at once: a
// month of gl-detail is read from PostgreSQL once per pass instead of once per format.
// Each rendering gets its own RenderInput whose streamed sections are branches of one
// read: every branch sees every row, in order. The read runs ahead of the slowest branch
// by a few batches at most, so memory stays bounded whatever the section's length; a
// fast rendering waits for a slow one rather than letting rows pile up.
import { invariant } from '../../errors.ts';
import type { BatchedRows, Cell, RenderInput, Section } from './types.ts';

type Row = readonly Cell[];

/** Rows handed over together when the source gives them one by one: enough that the hand-over costs little per row. */
const batchRows = 1_000;
/** Batches the read may run ahead of the slowest branch. */
const aheadBatchesMax = 8;

/** One streamed section's read, shared by `branches` readers. */
class SharedRead {
  private readonly iterator: AsyncIterator<readonly Row[]>;
  private readonly batches: (readonly Row[])[] = [];
  /** Index (in the whole read) of batches[0]. */
  private firstBatch = 0;
  private readonly positions: number[];
  private readonly attached: boolean[];
  private readonly started: boolean[];
  private done = false;
  private failure: { error: unknown } | null = null;
  private filling: Promise<void> | null = null;
  private waiters: (() => void)[] = [];

  constructor(source: AsyncIterable<Row>, attached: readonly boolean[]) {
    this.iterator = batchesOf(source)[Symbol.asyncIterator]();
    this.positions = attached.map(() => 0);
    this.attached = [...attached];
    this.started = attached.map(() => false);
  }

  branch(index: number): BatchedRows {
    const batches = () => this.branchBatches(index);
    return {
      batches,
      async *[Symbol.asyncIterator]() {
        for await (const batch of batches()) yield* batch;
      },
    };
  }

  private async *branchBatches(index: number): AsyncGenerator<readonly Row[]> {
    invariant(this.started[index] !== true, `branch ${index} reads the section once`);
    this.started[index] = true;
    try {
      for (;;) {
        const batch = await this.batchAt(index);
        if (batch === null) return;
        this.positions[index] = (this.positions[index] as number) + 1;
        this.advanced();
        yield batch;
      }
    } finally {
      this.detach(index);
    }
  }

  /** The branch no longer reads: the others stop waiting for it. */
  detach(index: number): void {
    if (this.attached[index] !== true) return;
    this.attached[index] = false;
    this.advanced();
    if (!this.attached.includes(true) && !this.done) {
      this.done = true;
      // Nobody reads on: end the source (a COPY is cut, its connection discarded).
      void this.iterator.return?.().catch(() => undefined);
    }
  }

  /** Every branch fails with `error` (a rendering of the group failed: the run fails). */
  abort(error: unknown): void {
    if (this.failure === null) this.failure = { error };
    for (let index = 0; index < this.attached.length; index += 1) this.detach(index);
  }

  private slowest(): number {
    let slowest = Number.POSITIVE_INFINITY;
    for (let index = 0; index < this.positions.length; index += 1) {
      if (this.attached[index] === true) slowest = Math.min(slowest, this.positions[index] as number);
    }
    return slowest;
  }

  private advanced(): void {
    const keepFrom = Math.min(this.slowest(), this.firstBatch + this.batches.length);
    if (keepFrom > this.firstBatch) {
      this.batches.splice(0, keepFrom - this.firstBatch);
      this.firstBatch = keepFrom;
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private async batchAt(index: number): Promise<readonly Row[] | null> {
    for (;;) {
      if (this.failure !== null) throw this.failure.error;
      const wanted = this.positions[index] as number;
      invariant(wanted >= this.firstBatch, 'a branch reads only batches still held');
      if (wanted < this.firstBatch + this.batches.length) return this.batches[wanted - this.firstBatch] as readonly Row[];
      if (this.done) return null;
      if (this.filling !== null) {
        await this.filling;
      } else if (wanted - this.slowest() >= aheadBatchesMax) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      } else {
        this.filling = this.fill().finally(() => { this.filling = null; });
        await this.filling;
      }
    }
  }

  private async fill(): Promise<void> {
    try {
      const next = await this.iterator.next();
      if (next.done === true) this.done = true;
      else if (next.value.length > 0) this.batches.push(next.value);
    } catch (error) {
      this.failure = { error };
      this.done = true;
    }
    this.advanced();
  }
}

/** The source's own batches when it has them, else its rows gathered into batches. */
async function* batchesOf(source: AsyncIterable<Row>): AsyncGenerator<readonly Row[]> {
  if (typeof (source as Partial<BatchedRows>).batches === 'function') {
    yield* (source as BatchedRows).batches();
    return;
  }
  let batch: Row[] = [];
  for await (const row of source) {
    batch.push(row);
    if (batch.length === batchRows) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Renderings that read each streamed section once between them: `inputFor(i)` is the
 * input of rendering i. Each rendering must read every streamed section through (every
 * renderer does) or be marked finished, else the others wait for it.
 */
export class SharedReads {
  private readonly reads = new Map<number, SharedRead>();
  private readonly attached: boolean[];

  constructor(private readonly input: RenderInput, branches: number) {
    invariant(branches >= 1, 'a shared read has a reader');
    this.attached = Array.from({ length: branches }, () => true);
  }

  inputFor(branch: number): RenderInput {
    invariant(branch >= 0 && branch < this.attached.length, `branch ${branch} of ${this.attached.length}`);
    const sections = this.input.sections.map((section, index): Section => {
      const rows = section.rows;
      if (typeof rows !== 'function') return section;
      return { ...section, rows: () => this.read(index, rows).branch(branch) };
    });
    return { ...this.input, sections };
  }

  /** Rendering `branch` is done (or failed): no read waits for it any more. */
  finished(branch: number): void {
    this.attached[branch] = false;
    for (const read of this.reads.values()) read.detach(branch);
  }

  /** A rendering failed: the others stop with the same error instead of waiting. */
  abort(error: unknown): void {
    this.attached.fill(false);
    for (const read of this.reads.values()) read.abort(error);
  }

  private read(index: number, rows: () => AsyncIterable<Row>): SharedRead {
    let read = this.reads.get(index);
    if (read === undefined) {
      read = new SharedRead(rows(), this.attached);
      this.reads.set(index, read);
    }
    return read;
  }
}

/**
 * Runs renderings side by side over shared reads and returns their results in order. If
 * one fails, the others are stopped and every file is settled before the first error is
 * thrown, so that no rendering is left writing (or holding a connection) behind it.
 */
export async function renderTogether<T>(
  input: RenderInput, renderings: readonly ((input: RenderInput) => Promise<T>)[],
): Promise<T[]> {
  const shared = new SharedReads(input, renderings.length);
  let firstError: { error: unknown } | null = null;
  const results = await Promise.all(renderings.map(async (render, branch) => {
    try {
      return await render(shared.inputFor(branch));
    } catch (error) {
      if (firstError === null) {
        firstError = { error };
        shared.abort(error);
      }
      return undefined;
    } finally {
      shared.finished(branch);
    }
  }));
  if (firstError !== null) throw (firstError as { error: unknown }).error;
  return results as T[];
}
