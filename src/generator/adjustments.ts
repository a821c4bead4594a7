// Manual journal entries as back office approves them: bank fees, processor rebates,
// goodwill credits to owners, absorbed tax, an invoice reclass with three lines. Only
// accounts open to manual entries (ACCOUNTING.md: 1000, 1100, 2010, 2200, 5000, 5900),
// each line with exactly its account's dimensions, debits equal to credits, a requester
// who is never the approver, and the approval signed as the service signs it.
import { invariant } from '../errors.ts';
import type { AdjustmentApprover } from '../ledger/approval.ts';
import { add, fromMinor, type Money } from '../ledger/money.ts';
import type { Market, Owner } from './catalog.ts';
import {
  clearing,
  payable,
  taxEffect,
  type Effect,
  type EventDraft,
  type JsonObject,
} from './drafts.ts';
import type { Rng } from './prng.ts';
import type { StageContext } from './records.ts';
import { dayMs } from './time.ts';

type Side = 'debit' | 'credit';
type AdjustmentLine = {
  readonly account: string;
  readonly side: Side;
  readonly amount: Money;
  /** Undefined for accounts without dimensions: written as `{}` or left out. */
  readonly dims: { readonly [name: string]: string } | undefined;
};
type AdjustmentPlan = {
  readonly reason: string;
  readonly lines: AdjustmentLine[];
  readonly effects: Effect[];
};
type Template = (rng: Rng, owner: Owner) => AdjustmentPlan;

function amountBetween(rng: Rng, market: Market, minMinor: bigint, maxMinor: bigint): Money {
  return fromMinor(market.currency, rng.minorBetween(minMinor, maxMinor));
}

const templates: readonly Template[] = [
  (rng, owner) => {
    const amount = amountBetween(rng, owner.market, 1_000n, 4_500n);
    return {
      reason: 'Monthly operating account fee charged by the bank',
      lines: [line('5900', 'debit', amount), line('1000', 'credit', amount)],
      effects: [],
    };
  },
  (rng, owner) => {
    const amount = amountBetween(rng, owner.market, 5_000n, 40_000n);
    const dims = { processor: owner.market.processor };
    return {
      reason: `Volume rebate on processing fees from ${owner.market.processor}`,
      lines: [line('1100', 'debit', amount, dims), line('5000', 'credit', amount, dims)],
      effects: [clearing(owner.market.processor, amount)],
    };
  },
  (rng, owner) => {
    const amount = amountBetween(rng, owner.market, 2_000n, 15_000n);
    return {
      reason: 'Goodwill credit to host after a platform outage',
      lines: [
        line('5900', 'debit', amount),
        line('2010', 'credit', amount, { owner_id: owner.ownerId }),
      ],
      effects: [payable(owner.ownerId, amount)],
    };
  },
  (rng, owner) => {
    const amount = amountBetween(rng, owner.market, 1n, 300n);
    return {
      reason: `Under-collected rental tax in ${owner.market.code} absorbed by the platform`,
      lines: [
        line('5900', 'debit', amount),
        line('2200', 'credit', amount, { market: owner.market.code }),
      ],
      effects: [taxEffect(owner.market.code, amount)],
    };
  },
  (rng, owner) => {
    const fees = amountBetween(rng, owner.market, 1_000n, 9_000n);
    const other = amountBetween(rng, owner.market, 500n, 3_000n);
    return {
      reason: 'Processor invoice paid from the operating account',
      lines: [
        line('5000', 'debit', fees, { processor: owner.market.processor }),
        line('5900', 'debit', other),
        line('1000', 'credit', add(fees, other)),
      ],
      effects: [],
    };
  },
];

function line(
  account: string,
  side: Side,
  amount: Money,
  dims?: { [name: string]: string },
): AdjustmentLine {
  return { account, side, amount, dims };
}

const requesters = ['ops.maria.lopez', 'ops.kenji.sato', 'fin.aisha.bello'];
const approvers = ['fin.controller.dana', 'fin.lead.olu'];

/** The approval's id, from the adjustment's: no draw, so the other ids stay as they were. */
export function approvalIdFor(adjustmentId: string): string {
  return `apv_${adjustmentId.replace(/^adj_/, '')}`;
}

/** A handful per month: at least one of each template, a few more for a big month. */
export function appendAdjustments(
  context: StageContext,
  owners: readonly Owner[],
  rentals: number,
  approve: AdjustmentApprover,
): EventDraft[] {
  const { rng, month } = context;
  invariant(owners.length > 0, 'adjustments pick an owner');
  const count = Math.max(templates.length, Math.floor(rentals / 1_500));
  const windowMs = month.endMs - month.startMs + 20 * dayMs;
  const adjustments: EventDraft[] = [];
  for (let index = 0; index < count; index += 1) {
    const template = templates[index % templates.length] as Template;
    const plan = template(rng, rng.pick(owners));
    const adjustmentId = context.ids.next('adjustment');
    const data: JsonObject = approve({
      adjustment_id: adjustmentId,
      reason: plan.reason,
      requested_by: rng.pick(requesters),
      approved_by: rng.pick(approvers),
      currency: plan.lines[0]?.amount.currency ?? null,
      lines: plan.lines.map((entry) => lineData(context, entry)),
    }, approvalIdFor(adjustmentId));
    adjustments.push(
      context.log.append({
        type: 'adjustment.posted',
        producer: 'backoffice',
        occurredAtMs: month.startMs + 3 * dayMs + rng.below(windowMs - 3 * dayMs),
        key: adjustmentId,
        data,
        effects: plan.effects,
      }),
    );
  }
  return adjustments;
}

function lineData(context: StageContext, entry: AdjustmentLine): JsonObject {
  const data: JsonObject = {
    account: entry.account,
    side: entry.side,
    amount: context.amounts.write(entry.amount),
  };
  // An account without dimensions may carry `{}` or leave dims out; both are legal.
  if (entry.dims !== undefined) data['dims'] = { ...entry.dims };
  else if (context.rng.chancePermille(500)) data['dims'] = {};
  return data;
}
