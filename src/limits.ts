// Every bound in one place, checked against each other at start-up (TigerBeetle's
// "put a limit on everything"). A runaway shows up as an error, not as a slow death.
import { invariant } from './errors.ts';

export const limits = {
  /** Messages in one projector transaction. */
  batchMessagesMax: 5_000,
  /** Bytes of message values in one projector transaction. */
  batchBytesMax: 16 * 1024 * 1024,
  /** A log message value larger than this is quarantined unread (as malformed_json). */
  messageBytesMax: 1024 * 1024,
  /** Lines of one journal entry (an adjustment can carry many). */
  entryLinesMax: 200,
  /** Embedded log segment file size before a new one is started. */
  segmentBytesMax: 64 * 1024 * 1024,
  /** Lines in one input file for `ledger events publish`. */
  publishLinesMax: 50_000_000,
  /** Rows in one page of a list (quarantine, lineage, runs). */
  pageRowsMax: 1_000,
  /** Attempts for a transaction that lost a race (serialization, unique violation). */
  transactionAttemptsMax: 5,
  /** Bytes of one HTTP request body: the largest legitimate one is an adjustment of entryLinesMax lines. */
  requestBodyBytesMax: 256 * 1024,
  /** Entries between two signed checkpoints while projecting. */
  checkpointEntriesInterval: 50_000,
  /** Nights the nightly reconciliation catches up after downtime (the newest ones). */
  nightlyCatchUpDaysMax: 40,
} as const;

invariant(limits.batchMessagesMax > 0, 'a batch holds at least one message');
invariant(limits.messageBytesMax <= limits.batchBytesMax, 'one message fits in a batch');
invariant(limits.messageBytesMax < limits.segmentBytesMax, 'one message fits in a segment');
invariant(limits.pageRowsMax <= 10_000, 'a page stays small enough to render');
