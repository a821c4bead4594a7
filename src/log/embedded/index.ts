// The embedded log: Kafka's topic/partition/offset model in plain files under one
// directory, for running without a broker. The byte layout is documented in format.ts.
import { invariant } from '../../errors.ts';
import { limits } from '../../limits.ts';
import type { LogConsumer, LogProducer } from '../types.ts';
import { EmbeddedConsumer, pollIntervalMsDefault } from './consumer.ts';
import { EmbeddedProducer } from './producer.ts';

export type EmbeddedLogOptions = {
  /** A segment past this size is closed and a new one started; tests use a tiny one. */
  readonly segmentBytesMax?: number;
  /** How often a following consumer looks for new records once caught up. */
  readonly pollIntervalMs?: number;
  /** Bytes of records between two sparse index entries. */
  readonly indexIntervalBytes?: number;
};

export type EmbeddedLog = {
  /** Takes the writer lock on its first write (one writer per log, across processes). */
  readonly producer: LogProducer;
  /** A new reader; any number of them, in any process, need no lock. */
  consumer(): LogConsumer;
};

/** `rootDir` is `${LEDGER_DATA_DIR}/log`; it is created on the first write. */
export function openEmbeddedLog(rootDir: string, options: EmbeddedLogOptions = {}): EmbeddedLog {
  const segmentBytesMax = options.segmentBytesMax ?? limits.segmentBytesMax;
  const pollIntervalMs = options.pollIntervalMs ?? pollIntervalMsDefault;
  invariant(rootDir.length > 0, 'the log has a directory');
  invariant(Number.isSafeInteger(segmentBytesMax), 'segment size is an integer');
  invariant(segmentBytesMax > 0, 'segment size is positive');
  invariant(pollIntervalMs > 0, 'poll interval is positive');
  const producer = new EmbeddedProducer(rootDir, { segmentBytesMax });
  const { indexIntervalBytes } = options;
  const readerOptions = { pollIntervalMs, ...(indexIntervalBytes ? { indexIntervalBytes } : {}) };
  return { producer, consumer: () => new EmbeddedConsumer(rootDir, readerOptions) };
}
