// Owner payouts: the day after money becomes payable to an owner (a completion, a damage
// claim, a goodwill credit), the owner is paid what can safely leave. "Safely" looks
// ahead: a refund after completion later takes R − C back out of the owner's payable, so
// a payout never exceeds the lowest balance the owner will have from then on. The
// stream therefore never drives an owner's payable negative (in log order), which
// reconciliation would report as a failed check.
import { invariant } from '../errors.ts';
import { add, compare, negate, zero, type Money } from '../ledger/money.ts';
import type { Owner } from './catalog.ts';
import { clearing, payable, type EventDraft } from './drafts.ts';
import type { PayoutRecord, StageContext } from './records.ts';
import { dayMs, dayNumber, dayStartMs, minuteMs } from './time.ts';

type PayableStep = { readonly atMs: number; readonly seq: number; readonly delta: Money };

/** A payout below this is left to accumulate: a bank transfer costs more than it is worth. */
const payoutMinimumMinor = 100n;
const payoutFailedPermille = 20;
/** An owner whose bank keeps bouncing is not retried forever: ops would call them. */
const payoutFailuresPerOwnerMax = 3;
const failureCodes = [
  'account_closed',
  'invalid_account_number',
  'bank_account_restricted',
  'no_account',
];

export function appendOwnerPayouts(
  context: StageContext,
  owners: readonly Owner[],
  drafts: readonly EventDraft[],
): PayoutRecord[] {
  const timelines = payableTimelines(drafts);
  const payouts: PayoutRecord[] = [];
  for (const owner of owners) {
    const steps = timelines.get(owner.ownerId);
    if (steps !== undefined) payOwner(context, owner, steps, payouts);
  }
  return payouts;
}

/** Each owner's payable movements in log order, from the effects the events recorded. */
function payableTimelines(drafts: readonly EventDraft[]): Map<string, PayableStep[]> {
  const timelines = new Map<string, PayableStep[]>();
  for (const draft of drafts) {
    for (const effect of draft.effects) {
      if (effect.kind !== 'payable') continue;
      const steps = timelines.get(effect.ownerId) ?? [];
      steps.push({ atMs: draft.occurredAtMs, seq: draft.seq, delta: effect.delta });
      timelines.set(effect.ownerId, steps);
    }
  }
  for (const steps of timelines.values()) steps.sort(compareSteps);
  return timelines;
}

function compareSteps(left: PayableStep, right: PayableStep): number {
  return left.atMs - right.atMs || left.seq - right.seq;
}

function payOwner(
  context: StageContext,
  owner: Owner,
  steps: PayableStep[],
  payouts: PayoutRecord[],
): void {
  const { rng } = context;
  const positiveSteps = steps.filter((step) => step.delta.minor > 0n);
  const days = [...new Set(positiveSteps.map((step) => dayNumber(step.atMs) + 1))];
  // Each failure adds at most one retry day, and failures per owner are bounded.
  const daysMax = days.length + payoutFailuresPerOwnerMax;
  let failures = 0;
  for (let index = 0; index < days.length; index += 1) {
    invariant(index < daysMax, 'owner payout days are bounded');
    const dayStart = dayStartMs(days[index] as number);
    const atMs = dayStart + owner.payoutMinuteOfDay * minuteMs + rng.below(minuteMs);
    const amount = safeWithdrawal(steps, atMs, owner);
    if (amount.minor < payoutMinimumMinor) continue;
    const payout = appendPayout(context, owner, amount, atMs);
    payouts.push(payout);
    insertStep(steps, { atMs, seq: payout.paidDraft.seq, delta: negate(amount) });
    const bounced =
      failures < payoutFailuresPerOwnerMax && rng.chancePermille(payoutFailedPermille);
    if (!bounced) continue;
    failures += 1;
    const failedAtMs = atMs + rng.between(dayMs, 3 * dayMs);
    const failed = appendPayoutFailed(context, payout, failedAtMs);
    insertStep(steps, { atMs: failedAtMs, seq: failed.seq, delta: amount });
    insertDay(days, dayNumber(failedAtMs) + 1, index);
  }
}

/** The lowest the owner's payable will be from `atMs` on: what can leave now. */
function safeWithdrawal(steps: readonly PayableStep[], atMs: number, owner: Owner): Money {
  let balance = zero(owner.market.currency);
  let lowest: Money | undefined;
  for (const step of steps) {
    balance = add(balance, step.delta);
    if (step.atMs <= atMs) continue;
    if (lowest === undefined) lowest = balanceBefore(balance, step.delta);
    if (compare(balance, lowest) < 0) lowest = balance;
  }
  const floor = lowest ?? balance;
  return floor.minor > 0n ? floor : zero(owner.market.currency);
}

/** The balance just before a step: at the payout's own time. */
function balanceBefore(balance: Money, delta: Money): Money {
  return add(balance, negate(delta));
}

function insertStep(steps: PayableStep[], step: PayableStep): void {
  let index = steps.length;
  while (index > 0 && compareSteps(steps[index - 1] as PayableStep, step) > 0) index -= 1;
  steps.splice(index, 0, step);
}

/** Adds a retry day after `fromIndex`, keeping the list sorted and without repeats. */
function insertDay(days: number[], day: number, fromIndex: number): void {
  if (days.includes(day)) return;
  let index = days.length;
  while (index > fromIndex + 1 && (days[index - 1] as number) > day) index -= 1;
  days.splice(index, 0, day);
}

function appendPayout(
  context: StageContext,
  owner: Owner,
  amount: Money,
  atMs: number,
): PayoutRecord {
  const payoutId = context.ids.next('payout');
  const paidDraft = context.log.append({
    type: 'payout.paid',
    producer: 'payouts',
    occurredAtMs: atMs,
    key: owner.ownerId,
    data: {
      payout_id: payoutId,
      owner_id: owner.ownerId,
      processor: owner.market.processor,
      processor_ref: context.ids.next('transferRef'),
      currency: owner.market.currency,
      amount: context.amounts.write(amount),
    },
    effects: [
      payable(owner.ownerId, negate(amount)),
      clearing(owner.market.processor, negate(amount)),
    ],
  });
  return { payoutId, owner, amount, paidDraft, failedDraft: undefined };
}

/** The failure repeats the paid amount's string: the same amount, written the same way. */
function appendPayoutFailed(context: StageContext, payout: PayoutRecord, atMs: number): EventDraft {
  const owner = payout.owner;
  payout.failedDraft = context.log.append({
    type: 'payout.failed',
    producer: 'payouts',
    occurredAtMs: atMs,
    key: owner.ownerId,
    data: {
      payout_id: payout.payoutId,
      owner_id: owner.ownerId,
      currency: owner.market.currency,
      amount: payout.paidDraft.data['amount'] ?? null,
      failure_code: context.rng.pick(failureCodes),
    },
    effects: [
      payable(owner.ownerId, payout.amount),
      clearing(owner.market.processor, payout.amount),
    ],
  });
  return payout.failedDraft;
}
