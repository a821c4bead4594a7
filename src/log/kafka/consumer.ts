// The Kafka LogConsumer: one member of a kafkajs consumer group. The position of every
// partition is the one PostgreSQL stores, in the same transaction as the batch's entries;
// Kafka's own committed offsets are only a mirror for lag tooling. How the two meet:
//
// - Seeking. On every assignment (each GROUP_JOIN starts a new epoch) the first batch of a
//   partition is compared with the stored offset, read afresh from PostgreSQL. A batch that
//   holds it is projected from there; one wholly before it (Kafka's mirror lags after a
//   crash between the two commits) or after it (a mirror from another database, a reset)
//   makes us seek to the stored offset and drop the batch. Checking the batch rather than
//   seeking from the GROUP_JOIN listener leaves no race with kafkajs's first fetch.
// - Fencing. A member that lost a partition may still be inside a batch of it. Its
//   transaction locks the partition's row (FOR UPDATE) and projects only from the stored
//   offset, so whichever member commits second finds the offset moved and skips what the
//   first wrote: the journal is the same whoever wins. Between chunks we also stop as soon
//   as kafkajs says the partition is stale or a heartbeat reports a rebalance, and the
//   mirror never commits a partition this member no longer owns.
// - Mirroring. After each committed batch the stored offset is committed to the group
//   (commitOffsets), in the background, newest offset only (mirror.ts).
// - Gaps. kafkajs resets an out-of-range position without telling anyone. We subscribe
//   with fromBeginning, so a reset lands on the log start, and a batch starting past the
//   stored offset is checked against the log start offset: if the stored offset is gone
//   from the log, or a seek to it did not help, the projector stops with a clear error.
//   The same check runs on every partition before joining the group, and a hole inside a
//   batch (compaction) is refused too.
// - Slots. kafkajs fetches again only once every batch of the last fetch is done. So it
//   may hand over every partition of a fetch at once, and their chunks take turns at the
//   handler's `partitionsConcurrently` slots (../slots.ts): a slot passes on the moment it
//   is free, and no partition drains its fetch while the others wait. A batch's last chunk
//   is handed off (handOff): the batch returns to kafkajs once that chunk has its slot, so
//   the next fetch overlaps it instead of waiting, slots idle, for the slowest partition's
//   last chunk and then for the fetch itself. Still one chunk of a partition at a time:
//   the partition's next batch waits for it. Kafka's offsets are untouched by this: only
//   where kafkajs fetches next moves ahead (resolveOffset; autoCommit is off).
// - Not following: every partition of the topics (assigned here or not) must reach the
//   high watermark seen at the start, as stored in PostgreSQL; then consume returns. So a
//   group of `ledger project` processes all finish once the whole log is projected, and a
//   survivor finishes the partitions of a member that died.
import type { Admin, Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { PartitionAssigners } from 'kafkajs';
import { UserError, invariant } from '../../errors.ts';
import type { ConsumeOptions, LogConsumer, LogMessage, TopicPartition } from '../types.ts';
import { awaitBrokers, describeKafkaError, type KafkaClientOptions } from './client.ts';
import { sleepMs } from '../../sleep.ts';
import { Slots, type ReleaseSlot } from '../slots.ts';
import { OffsetMirror } from './mirror.ts';
import { firstHole, planAhead, planBatch, takeChunk, type BatchPlan, type FetchedRange } from './positions.ts';
import { offsetNumber, topicMissing, topicOffsets, topicPartitionCount } from './producer.ts';

export type KafkaConsumerSettings = {
  readonly client: KafkaClientOptions;
  readonly groupId: string;
  /** How long to wait for an unreachable broker at the start (default kafkaLimits.reachTimeoutMs). */
  readonly reachTimeoutMs?: number;
};

export const consumerLimits = {
  /** A member that stops heartbeating (SIGKILL) loses its partitions after this. */
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  /** Members must rejoin within this during a rebalance; a batch takes well under a second. */
  rebalanceTimeoutMs: 30_000,
  /** Bytes fetched per partition per round; one round feeds each partition's handler once. */
  fetchPartitionBytesMax: 4 * 1024 * 1024,
  fetchBytesMax: 32 * 1024 * 1024,
  /** A caught-up partition's fetch waits this long for new messages. */
  fetchWaitMs: 250,
  /**
   * Batches kafkajs may hand over at once (its partitionsConsumedConcurrently), at least
   * one per partition: kafkajs fetches again only when every batch of the last fetch is
   * done, so each partition of a fetch is taken at once and waits for a handler slot
   * (options.partitionsConcurrently) here, where a slot passes on the moment it is free.
   */
  fetchBatchesConcurrentMax: 64,
  /** How often a consumer that does not follow checks the partitions it does not own. */
  pollIntervalMs: 250,
  /** kafkajs restarts after a crash (a broker gone too long); reset by any progress. */
  crashRestartsMax: 10,
  /** Attempts at a batch whose database connection dropped (the transaction rolled back). */
  transientAttemptsMax: 5,
  transientBackoffInitialMs: 500,
  /** Batches in a row that a partition's handler may answer without moving forward. */
  stalledBatchesMax: 1_000,
  /** At shutdown: the batch in flight gets this long to commit, then it is abandoned. */
  shutdownBatchMs: 30_000,
  shutdownMirrorMs: 5_000,
  shutdownLeaveMs: 10_000,
} as const;

invariant(consumerLimits.heartbeatIntervalMs * 3 <= consumerLimits.sessionTimeoutMs, 'heartbeats fit a session');
invariant(consumerLimits.fetchPartitionBytesMax <= consumerLimits.fetchBytesMax, 'a partition fits a fetch');

export class KafkaConsumer implements LogConsumer {
  private running = false;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: KafkaConsumerSettings,
  ) {}

  async consume(options: ConsumeOptions): Promise<void> {
    invariant(!this.closed, 'a closed consumer does not consume');
    invariant(!this.running, 'one consume at a time per consumer');
    invariant(options.topics.length >= 1, 'a consumer reads at least one topic');
    invariant(options.batchMessagesMax >= 1, 'a batch holds at least one message');
    invariant(options.batchBytesMax >= 1, 'a batch holds at least one byte');
    this.running = true;
    try {
      await new ConsumeRun(this.kafka, this.settings, options).run();
    } finally {
      this.running = false;
    }
  }

  async close(): Promise<void> {
    // Each consume disconnects its own clients when it returns; nothing stays open.
    this.closed = true;
  }
}

type Position = {
  /** The assignment epoch this position was read in; a new assignment reads it again. */
  epoch: number;
  nextOffset: number;
  seekedTo: number | undefined;
  stalledBatches: number;
};

/** What to do with a batch once an `ahead` plan has been looked into. */
type Plan = Exclude<BatchPlan, { kind: 'ahead' }> | { readonly kind: 'gap'; readonly logStartOffset: number };

const keyOf = (topic: string, partition: number): string => `${topic}/${partition}`;

/** One call of consume(): its own kafkajs consumer and admin, closed when it returns. */
class ConsumeRun {
  private readonly stop = new AbortController();
  private admin: Admin | null = null;
  private consumer: Consumer | null = null;
  private fatal: unknown = null;
  private epoch = 0;
  private assigned = new Set<string>();
  private readonly positions = new Map<string, Position>();
  /** Not following: each partition's high watermark at the start, and those reached. */
  private readonly targets = new Map<string, number>();
  private readonly reached = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Per partition, its last chunk still in the handler after kafkajs was given its batch back (handOff). */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly mirror: OffsetMirror;
  /** Chunks in the handler at once, over all partitions. */
  private readonly handlerSlots: Slots;
  private crashRestarts = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: KafkaConsumerSettings,
    private readonly options: ConsumeOptions,
  ) {
    this.mirror = new OffsetMirror(
      (offsets) => this.consumer?.commitOffsets([...offsets]) ?? Promise.resolve(),
      (topic, partition) => this.assigned.has(keyOf(topic, partition)),
      settings.client.log,
    );
    this.handlerSlots = new Slots(options.partitionsConcurrently ?? 1);
  }

  private get log(): (line: string) => void {
    return this.settings.client.log;
  }

  async run(): Promise<void> {
    const onAbort = () => this.stop.abort();
    this.options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await awaitBrokers({ ...this.settings.client, signal: this.options.signal,
        ...(this.settings.reachTimeoutMs === undefined ? {} : { timeoutMs: this.settings.reachTimeoutMs }) });
      if (this.stop.signal.aborted) return;
      this.admin = this.kafka.admin({ retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000 } });
      await this.admin.connect();
      await this.checkStart(this.admin);
      if (!this.options.follow && this.allReached()) return;
      await this.startConsumer();
      await this.waitForEnd();
    } finally {
      this.options.signal.removeEventListener('abort', onAbort);
      await this.shutdown();
    }
    if (this.fatal !== null) throw this.fatal;
  }

  /**
   * Before joining: every partition's stored offset must lie within what the log holds,
   * so that a gap is reported even for a partition no batch will ever come from.
   */
  private async checkStart(admin: Admin): Promise<void> {
    for (const topic of this.options.topics) {
      if ((await topicPartitionCount(admin, topic)) === null) throw topicMissing(topic);
      for (const { partition, low, high } of await topicOffsets(admin, topic)) {
        const stored = await this.storedOffset({ topic, partition });
        if (stored < low) throw gapError(topic, partition, stored, low, low);
        if (stored > high) throw pastEndError(topic, partition, stored, high);
        this.targets.set(keyOf(topic, partition), high);
        if (stored >= high) this.reached.add(keyOf(topic, partition));
      }
    }
  }

  private async startConsumer(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.settings.groupId,
      partitionAssigners: [PartitionAssigners.roundRobin],
      sessionTimeout: consumerLimits.sessionTimeoutMs,
      rebalanceTimeout: consumerLimits.rebalanceTimeoutMs,
      heartbeatInterval: consumerLimits.heartbeatIntervalMs,
      metadataMaxAge: 30_000,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: Math.min(consumerLimits.fetchPartitionBytesMax, this.options.batchBytesMax),
      minBytes: 1,
      maxBytes: consumerLimits.fetchBytesMax,
      maxWaitTimeInMs: consumerLimits.fetchWaitMs,
      readUncommitted: false,
      retry: {
        retries: 8, initialRetryTime: 300, maxRetryTime: 5_000,
        restartOnFailure: (error) => this.restartOnFailure(error),
      },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.onJoin(event.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) {
        this.fail(new UserError('kafka_failed', `the Kafka consumer of group ${this.settings.groupId} ` +
          `stopped: ${describeKafkaError(event.payload.error)}`));
      }
    });
    await consumer.connect();
    // fromBeginning: a partition without a committed offset, or one kafkajs resets after an
    // out-of-range fetch, starts at the log start, where a gap shows; `latest` would hide it.
    await consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
    // Why autoCommit is off and nothing auto-resolves: the offset is stored in the same
    // PostgreSQL transaction as the entries. Were kafkajs to commit it, a crash between
    // the two commits would lose or double an event.
    await consumer.run({
      autoCommit: false,
      autoCommitInterval: null,
      autoCommitThreshold: null,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.min(consumerLimits.fetchBatchesConcurrentMax,
        Math.max(this.targets.size, this.handlerSlots.count)),
      eachBatch: (payload) => this.tracked(this.eachBatch(payload)),
    });
  }

  private onJoin(assignment: Record<string, number[]>): void {
    // Runs synchronously inside kafkajs's join, before the first fetch of the generation.
    this.epoch += 1;
    this.crashRestarts = 0;
    this.assigned = new Set(Object.entries(assignment).flatMap(([topic, partitions]) =>
      partitions.map((partition) => keyOf(topic, partition))));
    void this.seekAssigned(this.epoch).catch((error: unknown) => this.fail(error));
    const owned = Object.entries(assignment).filter(([, partitions]) => partitions.length > 0)
      .map(([topic, partitions]) => `${topic}:${[...partitions].sort((a, b) => a - b).join(',')}`)
      .join(' ') || 'none';
    this.log(`kafka: joined group ${this.settings.groupId}; partitions ${owned}`);
  }

  /**
   * Seeks every newly assigned partition to its stored offset before (usually) its first
   * fetch. Without this, a group whose Kafka offsets sit at the end of the log while the
   * database is behind would never be handed a batch to correct it with. A partition whose
   * first batch got here first is left to the batch check, which saw fresher data.
   */
  private async seekAssigned(epoch: number): Promise<void> {
    for (const key of [...this.assigned].sort()) {
      const [topic, partition] = splitKey(key);
      const stored = await withTransientRetries(() => this.storedOffset({ topic, partition }), this.stop.signal);
      if (this.epoch !== epoch || this.stop.signal.aborted || this.consumer === null) return;
      if (this.positions.get(key)?.epoch === epoch) continue;
      this.positions.set(key, { epoch, nextOffset: stored, seekedTo: undefined, stalledBatches: 0 });
      this.consumer.seek({ topic, partition, offset: String(stored) });
    }
  }

  private async restartOnFailure(error: Error): Promise<boolean> {
    this.crashRestarts += 1;
    const restart = this.crashRestarts <= consumerLimits.crashRestartsMax && !this.stop.signal.aborted;
    this.log(`kafka: consumer failed (${describeKafkaError(error)}); ` + (restart
      ? `restarting it (${this.crashRestarts} of ${consumerLimits.crashRestartsMax})` : 'giving up'));
    return restart;
  }

  private async waitForEnd(): Promise<void> {
    // Endless when following: it ends on abort (a signal, a failure) or, not following,
    // once every partition has reached its target.
    while (!this.stop.signal.aborted) {
      if (!this.options.follow) {
        await this.pollReached();
        if (this.allReached()) this.stop.abort();
      }
      await sleepMs(consumerLimits.pollIntervalMs, this.stop.signal);
    }
  }

  /** Partitions other members project (or projected before a rebalance) are read from PostgreSQL. */
  private async pollReached(): Promise<void> {
    for (const [key, target] of this.targets) {
      if (this.reached.has(key)) continue;
      const [topic, partition] = splitKey(key);
      try {
        if ((await this.options.startOffset({ topic, partition })) >= target) this.reached.add(key);
      } catch (error) {
        if (!isTransientDatabaseError(error)) throw error;
      }
    }
  }

  private allReached(): boolean {
    return this.reached.size === this.targets.size;
  }

  private tracked(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  /**
   * A batch, tried again when the database connection dropped under it: its transaction
   * rolled back, and the retry starts from the offset stored by the last committed chunk.
   * Any other failure stops the consumer and is what consume() rejects with.
   */
  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    let backoffMs: number = consumerLimits.transientBackoffInitialMs;
    for (let attempt = 1; attempt <= consumerLimits.transientAttemptsMax; attempt++) {
      if (this.stop.signal.aborted || payload.isStale()) return;
      try {
        await this.handleBatch(payload);
        return;
      } catch (error) {
        if (!isTransientDatabaseError(error) || attempt === consumerLimits.transientAttemptsMax) {
          this.fail(error);
          return;
        }
        const { topic, partition } = payload.batch;
        this.log(`database: connection lost while projecting ${keyOf(topic, partition)} ` +
          `(${(error as Error).message}); retrying in ${backoffMs} ms ` +
          `(attempt ${attempt} of ${consumerLimits.transientAttemptsMax})`);
        await sleepMs(backoffMs, this.stop.signal);
        backoffMs *= 2;
      }
    }
  }

  private fail(error: unknown): void {
    this.fatal ??= error;
    this.stop.abort();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition } = payload.batch;
    const messages = payload.batch.messages.map((m) => toLogMessage(topic, partition, m));
    // The partition's previous chunk may still be in the handler (handOff): this batch
    // follows it, and is stale if it ended elsewhere than where kafkajs was told to fetch.
    const tail = this.tails.get(keyOf(topic, partition));
    if (tail !== undefined) {
      await tail;
      if (this.stop.signal.aborted || payload.isStale()) return;
    }
    const first = messages[0];
    const last = messages[messages.length - 1];
    if (first === undefined || last === undefined) return; // kafkajs hands out no empty batch
    const highWatermark = offsetNumber(payload.batch.highWatermark, `${topic}/${partition} high watermark`);
    const range: FetchedRange = { firstOffset: first.offset, lastOffset: last.offset, highWatermark };
    const position = await this.position({ topic, partition });
    const plan = await this.plan(range, position, { topic, partition });
    // A seek registered while we looked (the assignment's own) makes this batch stale.
    if (payload.isStale()) return;
    switch (plan.kind) {
      case 'project':
        return this.project(payload, messages.filter((m) => m.offset >= plan.fromOffset), position, highWatermark);
      case 'seek':
        return this.seek({ topic, partition }, position, plan.toOffset, range.firstOffset);
      case 'past_end':
        throw pastEndError(topic, partition, position.nextOffset, highWatermark);
      case 'gap':
        throw gapError(topic, partition, position.nextOffset, range.firstOffset, plan.logStartOffset);
    }
  }

  /** The stored offset, read from PostgreSQL once per partition per assignment. */
  private async position(tp: TopicPartition): Promise<Position> {
    const key = keyOf(tp.topic, tp.partition);
    const epoch = this.epoch;
    let position = this.positions.get(key);
    if (position === undefined || position.epoch !== epoch) {
      position = { epoch, nextOffset: await this.storedOffset(tp), seekedTo: undefined, stalledBatches: 0 };
      this.positions.set(key, position);
    }
    return position;
  }

  /** A batch past the stored offset: read the stored offset again, then the log start. */
  private async plan(range: FetchedRange, position: Position, tp: TopicPartition): Promise<Plan> {
    const plan = planBatch(range, position.nextOffset);
    if (plan.kind !== 'ahead') return plan;
    position.nextOffset = await this.storedOffset(tp);
    const replanned = planBatch(range, position.nextOffset);
    if (replanned.kind !== 'ahead') return replanned;
    const logStartOffset = await this.logStartOffset(tp);
    const decided = planAhead(position.nextOffset, logStartOffset, position.seekedTo);
    return decided.kind === 'gap' ? { kind: 'gap', logStartOffset } : decided;
  }

  private seek(tp: TopicPartition, position: Position, toOffset: number, fetchedOffset: number): void {
    invariant(this.consumer !== null, 'a batch comes from a running consumer');
    this.log(`kafka: ${tp.topic}/${tp.partition}: the group was at offset ${fetchedOffset}, the journal ` +
      `at ${toOffset}; seeking to the journal's offset`);
    this.consumer.seek({ topic: tp.topic, partition: tp.partition, offset: String(toOffset) });
    position.seekedTo = toOffset;
  }

  /**
   * Hands the messages to the handler in chunks of at most batchMessagesMax messages and
   * batchBytesMax bytes, each its own transaction. Stops between chunks when asked to stop,
   * when the partition went stale (a seek, a rebalance) or when a heartbeat fails. The
   * batch's last chunk is handed off (handOff) rather than awaited: kafkajs fetches again
   * only once every batch of its last fetch returned, so awaiting it would leave the
   * handler slots idle at the end of each fetch and during the next fetch.
   */
  private async project(
    payload: EachBatchPayload, messages: LogMessage[], position: Position, highWatermark: number,
  ): Promise<void> {
    const { topic, partition } = payload.batch;
    const hole = firstHole(messages.map((m) => m.offset));
    if (hole >= 0) {
      const expected = (messages[hole - 1] as LogMessage).offset + 1;
      throw gapError(topic, partition, expected, (messages[hole] as LogMessage).offset, null);
    }
    let remaining = messages;
    while (remaining.length > 0) {
      if (this.stop.signal.aborted || !payload.isRunning() || payload.isStale()) return;
      const chunk = takeChunk(remaining, this.options.batchMessagesMax, this.options.batchBytesMax);
      const release = await this.handlerSlots.acquire(this.stop.signal);
      if (release === null) return;
      // Again: the wait for a slot may have outlasted the assignment.
      if (!payload.isRunning() || payload.isStale()) {
        release();
        return;
      }
      if (chunk.length === remaining.length) {
        this.handOff(payload, position, chunk, highWatermark, release);
        return;
      }
      let nextOffset: number;
      try {
        ({ nextOffset } = await this.options.eachBatch({ topic, partition, messages: chunk, highWatermark }));
      } finally {
        release();
      }
      if (!this.advance(payload.batch, position, chunk, nextOffset, payload.resolveOffset)) return;
      remaining = remaining.filter((m) => m.offset >= nextOffset);
      try {
        await payload.heartbeat();
      } catch {
        return; // a rebalance: kafkajs rejoins once this batch returns
      }
    }
  }

  /**
   * The batch's last chunk goes to the handler (its slot already held) as the partition's
   * tail, and the batch returns to kafkajs at once, its offsets resolved to the chunk's
   * end: kafkajs may then fetch the partition's next messages while the chunk is projected.
   * Those wait in handleBatch until the tail is done, so a partition still has one chunk in
   * the handler at a time, in offset order, and at most one fetched batch waiting behind
   * it. Resolving is not committing (autoCommit is off): it only says where kafkajs fetches
   * next. So the tail, when it did not end exactly there (no progress, a failure tried
   * again and given up, a handler that skipped ahead), seeks to the offset PostgreSQL
   * stores, which makes the waiting batch stale, as a seek always does.
   */
  private handOff(
    payload: EachBatchPayload, position: Position, chunk: LogMessage[], highWatermark: number, release: ReleaseSlot,
  ): void {
    const { topic, partition } = payload.batch;
    const key = keyOf(topic, partition);
    const epoch = this.epoch;
    const endOffset = (chunk[chunk.length - 1] as LogMessage).offset + 1;
    payload.resolveOffset(String(endOffset - 1));
    const tail: Promise<void> = this.tracked((async () => {
      try {
        await this.projectTail({ topic, partition }, position, chunk, highWatermark, release);
      } catch (error) {
        this.fail(error);
        return;
      }
      const stillOurs = epoch === this.epoch && this.assigned.has(key) && !this.stop.signal.aborted;
      if (stillOurs && position.nextOffset !== endOffset && !payload.isStale() && this.consumer !== null) {
        this.consumer.seek({ topic, partition, offset: String(position.nextOffset) });
      }
    })().finally(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }));
    this.tails.set(key, tail);
  }

  /**
   * The tail chunk in the handler, tried again (bounded, with backoff, its slot given back
   * meanwhile) when the database connection dropped, as eachBatch tries a batch again.
   * Throws what is fatal; returns when done, given up (a stop), or without progress.
   */
  private async projectTail(
    tp: TopicPartition, position: Position, chunk: LogMessage[], highWatermark: number, held: ReleaseSlot,
  ): Promise<void> {
    let release: ReleaseSlot | null = held;
    let backoffMs: number = consumerLimits.transientBackoffInitialMs;
    for (let attempt = 1; ; attempt++) {
      let nextOffset: number;
      try {
        ({ nextOffset } = await this.options.eachBatch({ ...tp, messages: chunk, highWatermark }));
      } catch (error) {
        release();
        if (!isTransientDatabaseError(error) || attempt >= consumerLimits.transientAttemptsMax) throw error;
        this.log(`database: connection lost while projecting ${keyOf(tp.topic, tp.partition)} ` +
          `(${(error as Error).message}); retrying in ${backoffMs} ms ` +
          `(attempt ${attempt} of ${consumerLimits.transientAttemptsMax})`);
        await sleepMs(backoffMs, this.stop.signal);
        backoffMs *= 2;
        release = await this.handlerSlots.acquire(this.stop.signal);
        if (release === null) return;
        continue;
      }
      release();
      this.advance(tp, position, chunk, nextOffset, null);
      return;
    }
  }

  /**
   * Records a committed chunk; false when the handler made no progress (try again later).
   * `resolve` tells kafkajs where to fetch next; null for a tail, resolved ahead (handOff).
   */
  private advance(
    tp: TopicPartition, position: Position, chunk: LogMessage[], nextOffset: number,
    resolve: ((offset: string) => void) | null,
  ): boolean {
    const { topic, partition } = tp;
    const where = keyOf(topic, partition);
    invariant(Number.isSafeInteger(nextOffset), `handler's nextOffset for ${where} is an integer`);
    invariant(nextOffset >= 0, `handler's nextOffset ${nextOffset} for ${where} is not negative`);
    if (nextOffset <= (chunk[0] as LogMessage).offset) {
      position.stalledBatches += 1;
      if (position.stalledBatches > consumerLimits.stalledBatchesMax) {
        throw new Error(`the handler returned no progress on ${where} at offset ${chunk[0]?.offset} ` +
          `${consumerLimits.stalledBatchesMax} times in a row`);
      }
      return false;
    }
    position.stalledBatches = 0;
    position.nextOffset = nextOffset;
    position.seekedTo = undefined;
    this.crashRestarts = 0;
    // kafkajs fetches next from the resolved offset + 1: the offset PostgreSQL stores.
    resolve?.(String(nextOffset - 1));
    this.mirror.note(topic, partition, nextOffset);
    const target = this.targets.get(where);
    if (target !== undefined && nextOffset >= target) this.reached.add(where);
    if (!this.options.follow && this.allReached()) this.stop.abort();
    return true;
  }

  private async storedOffset(tp: TopicPartition): Promise<number> {
    const offset = await this.options.startOffset(tp);
    const where = keyOf(tp.topic, tp.partition);
    invariant(Number.isSafeInteger(offset) && offset >= 0, `stored offset ${offset} for ${where} is an offset`);
    return offset;
  }

  private async logStartOffset(tp: TopicPartition): Promise<number> {
    invariant(this.admin !== null, 'the admin client is connected while consuming');
    const found = (await topicOffsets(this.admin, tp.topic)).find((p) => p.partition === tp.partition);
    invariant(found !== undefined, `${keyOf(tp.topic, tp.partition)} exists`);
    return found.low;
  }

  /**
   * Stops taking batches, lets the batch in flight commit (or abandons it after a bound:
   * its transaction then rolls back when the process ends), mirrors the final offsets,
   * and leaves the group so that the partitions move at once, not after a session timeout.
   */
  private async shutdown(): Promise<void> {
    this.stop.abort();
    const consumer = this.consumer;
    if (consumer !== null) {
      try {
        consumer.pause(this.options.topics.map((topic) => ({ topic })));
      } catch {
        // Not running (it crashed and was not restarted): nothing to pause.
      }
      const settled = await within(Promise.allSettled([...this.inFlight]), consumerLimits.shutdownBatchMs);
      if (!settled) {
        this.log(`kafka: abandoning the batch in flight after ${consumerLimits.shutdownBatchMs} ms; ` +
          'its transaction rolls back and the batch is read again next time');
      }
      await this.mirror.flush(consumerLimits.shutdownMirrorMs);
      if (!(await within(consumer.disconnect().catch(() => undefined), consumerLimits.shutdownLeaveMs))) {
        this.log('kafka: leaving the group timed out; the group coordinator will expire this member');
      }
    }
    await this.admin?.disconnect().catch(() => undefined);
  }
}

function toLogMessage(topic: string, partition: number, message: KafkaMessage): LogMessage {
  const timestampMs = Number(message.timestamp);
  invariant(Number.isSafeInteger(timestampMs), `${topic}/${partition} message timestamp is an integer`);
  return {
    topic,
    partition,
    offset: offsetNumber(message.offset, `${topic}/${partition} message`),
    key: message.key ?? null,
    value: message.value ?? null,
    headers: headersOf(message.headers),
    timestampMs,
  };
}

function headersOf(headers: IHeaders | undefined): LogMessage['headers'] {
  if (headers === undefined) return [];
  return Object.entries(headers).flatMap(([key, value]) => {
    const values = Array.isArray(value) ? value : [value];
    return values.map((v) => ({ key, value: v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v) }));
  });
}

function splitKey(key: string): [string, number] {
  const slash = key.lastIndexOf('/');
  return [key.slice(0, slash), Number(key.slice(slash + 1))];
}

/** A database read tried again (bounded, with backoff) when its connection dropped. */
async function withTransientRetries<T>(read: () => Promise<T>, signal: AbortSignal): Promise<T> {
  let backoffMs: number = consumerLimits.transientBackoffInitialMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!isTransientDatabaseError(error) || attempt >= consumerLimits.transientAttemptsMax) throw error;
      await sleepMs(backoffMs, signal);
      backoffMs *= 2;
    }
  }
}

/** True when `work` settled within `timeoutMs`. */
async function within(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  const timer = new AbortController();
  const settled = await Promise.race([
    work.then(() => true, () => true),
    sleepMs(timeoutMs, timer.signal).then(() => false),
  ]);
  timer.abort();
  return settled;
}

/**
 * The database connection itself failed (the server ended it, a network error), as
 * opposed to the batch being wrong: the transaction rolled back and may be tried again.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code)) return true;
    if (['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect/i
    .test(message);
}

function gapError(
  topic: string, partition: number, expected: number, firstOffset: number, logStartOffset: number | null,
): UserError {
  const start = logStartOffset === null ? '' : ` (the partition now starts at offset ${logStartOffset})`;
  return new UserError('log_gap', `log gap on ${topic}/${partition}: the journal's next offset is ${expected}, ` +
    `but the first message Kafka has is at ${firstOffset}${start}; offsets ${expected}..${firstOffset - 1} are ` +
    'missing (retention, compaction, or a reset after an out-of-range fetch). Refusing to skip them: ' +
    'restore them to the topic, or project into a new database from a log that has them');
}

function pastEndError(topic: string, partition: number, stored: number, endOffset: number): UserError {
  return new UserError('log_offset_out_of_range', `${topic}/${partition}: the journal's next offset is ` +
    `${stored}, but the Kafka partition ends at offset ${endOffset}; this topic is not the one the ` +
    'database was projected from');
}
