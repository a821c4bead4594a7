// The bounds of a reconciliation run, beside the service's own (src/limits.ts), checked
// against each other at start-up: a runaway file shows up as an error, not as a slow death.
import { invariant } from '../errors.ts';

export const reconLimits = {
  /** Ledger items, and reported (unmatched) items, in one run: about a million a side is routine. */
  reconItemsMax: 20_000_000,
  /** Rows read from one input file. */
  fileRowsMax: 20_000_000,
  /** Characters of one CSV record or one camt.053 element's text; longer is a bad row. */
  rowCharsMax: 64 * 1024,
  /** Bad rows listed in the run record per file (all of them are counted). */
  badRowsListedMax: 1_000,
  /** Breaks printed by `ledger reconcile --json` (all of them are stored). */
  breaksPrintedMax: 10_000,
  /** Journal entries read per page while loading the run's items. */
  ledgerPageEntries: 20_000,
  /** Grace window and date tolerance, in days, that a configuration may ask for. */
  settingDaysMax: 60,
} as const;

invariant(reconLimits.badRowsListedMax <= reconLimits.fileRowsMax, 'listed bad rows fit in a file');
invariant(reconLimits.breaksPrintedMax <= reconLimits.reconItemsMax, 'printed breaks fit in a run');
invariant(reconLimits.ledgerPageEntries <= 100_000, 'a page of entries stays small in memory');
