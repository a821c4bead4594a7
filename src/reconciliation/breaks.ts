// Breaks carried from run to run (RECONCILIATION.md, Outcomes). A break keeps its id and
// the day it opened for as long as the preceding run (the latest run of an earlier date)
// reported the same break (same key, still a break); its age is the days since it opened.
// A break that matched and later came back is a new break. The id is a hash of the key
// and the opening day, so that re-running a date (same predecessor, same inputs) gives
// the same ids, ages and resolutions: a resolution follows the id. Pure.
import { sha256Hex } from '../ledger/canonical.ts';
import type { ReportedItem } from './match.ts';

export type PriorBreak = { readonly breakId: string; readonly openedOnDay: number };

export type AssignedItem = ReportedItem & {
  readonly breakId: string;
  readonly openedOnDay: number;
  readonly ageDays: number;
};

export function breakIdFor(breakKey: string, openedOnDay: number): string {
  return `brk_${sha256Hex(`break v1\n${breakKey}\n${openedOnDay}`).slice(0, 24)}`;
}

/**
 * Gives each reported item its break id, opening day and age. `prior` holds the breaks
 * (not the pending items) of the preceding run, by key.
 */
export function carryBreaks(
  items: readonly ReportedItem[], prior: ReadonlyMap<string, PriorBreak>, runDay: number,
): AssignedItem[] {
  return items.map((item) => {
    const carried = item.outcome === 'pending' ? undefined : prior.get(item.breakKey);
    const usable = carried !== undefined && carried.openedOnDay <= runDay;
    const openedOnDay = usable ? carried.openedOnDay : runDay;
    const breakId = usable ? carried.breakId : breakIdFor(item.breakKey, runDay);
    return { ...item, breakId, openedOnDay, ageDays: runDay - openedOnDay };
  });
}
