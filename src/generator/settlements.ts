// The money that leaves the platform in bulk: the processor's payouts of its balance to
// the bank, and the monthly tax remittance per market. Both are computed from the
// effects of the events already generated, so they agree with the stream. A processor
// pays out, two days later, the clearing balance built up to the end of a day (captures
// less refunds, deposit releases, disputes and owner transfers). A day that leaves the
// balance negative is carried forward; only when it stays negative for several days
// does the processor debit the bank (a negative payout), as card processors do. After
// the last day every processor's clearing balance is zero, which is what the processor
// and bank files of RECONCILIATION.md will have to show.
import { add, isZero, negate, zero, type CurrencyCode, type Money } from '../ledger/money.ts';
import { markets, type ProcessorName } from './catalog.ts';
import { clearing, taxEffect, type EventDraft } from './drafts.ts';
import type { StageContext } from './records.ts';
import { dateText, dayMs, dayNumber, dayStartMs, hourMs } from './time.ts';

const processorNames: readonly ProcessorName[] = ['stripe', 'adyen'];
const currencyCodes: readonly CurrencyCode[] = ['USD', 'CAD'];
/** Processors pay out a day's closing balance two days later (a T+2 rolling schedule). */
const payoutDelayDays = 2;
/** Days a negative balance is carried before the processor debits the bank for it. */
const negativeCarryDaysMax = 5;

export function appendProcessorPayouts(
  context: StageContext,
  drafts: readonly EventDraft[],
): EventDraft[] {
  const nets = dailyClearingNets(drafts);
  const payouts: EventDraft[] = [];
  for (const processor of processorNames) {
    for (const currency of currencyCodes) {
      const byDay = nets.get(clearingKey(processor, currency));
      if (byDay !== undefined) payouts.push(...sweep(context, processor, currency, byDay));
    }
  }
  return payouts;
}

/** Walks every day from the first to the last with activity, paying out as described above. */
function sweep(
  context: StageContext,
  processor: ProcessorName,
  currency: CurrencyCode,
  byDay: ReadonlyMap<number, Money>,
): EventDraft[] {
  const days = [...byDay.keys()];
  const firstDay = Math.min(...days);
  const lastDay = Math.max(...days);
  const payouts: EventDraft[] = [];
  let balance = zero(currency);
  let negativeDays = 0;
  for (let day = firstDay; day <= lastDay; day += 1) {
    balance = add(balance, byDay.get(day) ?? zero(currency));
    negativeDays = balance.minor < 0n ? negativeDays + 1 : 0;
    const due = balance.minor > 0n || negativeDays >= negativeCarryDaysMax || day === lastDay;
    if (!due || isZero(balance)) continue;
    payouts.push(appendProcessorPayout(context, processor, balance, day + payoutDelayDays));
    balance = zero(currency);
    negativeDays = 0;
  }
  return payouts;
}

function clearingKey(processor: ProcessorName, currency: CurrencyCode): string {
  return `${processor} ${currency}`;
}

/** Net clearing movement per processor, currency and UTC day. */
function dailyClearingNets(drafts: readonly EventDraft[]): Map<string, Map<number, Money>> {
  const nets = new Map<string, Map<number, Money>>();
  for (const draft of drafts) {
    for (const effect of draft.effects) {
      if (effect.kind !== 'clearing') continue;
      const key = clearingKey(effect.processor, effect.delta.currency);
      const byDay = nets.get(key) ?? new Map<number, Money>();
      const day = dayNumber(draft.occurredAtMs);
      byDay.set(day, add(byDay.get(day) ?? zero(effect.delta.currency), effect.delta));
      nets.set(key, byDay);
    }
  }
  return nets;
}

function appendProcessorPayout(
  context: StageContext,
  processor: ProcessorName,
  amount: Money,
  payoutDay: number,
): EventDraft {
  const { rng } = context;
  const atMs = dayStartMs(payoutDay) + 2 * hourMs + rng.below(3 * hourMs);
  const arrivalMs = atMs + rng.between(1, 2) * dayMs;
  const processorPayoutId = context.ids.next('processorPayout');
  return context.log.append({
    type: 'processor.payout',
    producer: 'treasury',
    occurredAtMs: atMs,
    key: processorPayoutId,
    data: {
      processor_payout_id: processorPayoutId,
      processor,
      currency: amount.currency,
      amount: context.amounts.write(amount),
      arrival_date: dateText(arrivalMs),
    },
    effects: [clearing(processor, negate(amount))],
  });
}

/** Remittance day in the following month: returns are due by the 20th. */
const remittanceDayOfMonth = 20;

/** Per market, the tax collected net of tax refunded in the month, paid the next month. */
export function appendTaxRemittances(
  context: StageContext,
  drafts: readonly EventDraft[],
): EventDraft[] {
  const { month, rng } = context;
  const nets = monthlyTaxNets(drafts, month.startMs, month.endMs);
  const remittances: EventDraft[] = [];
  for (const market of markets) {
    const net = nets.get(market.code);
    if (net === undefined || net.minor <= 0n) continue;
    const atMs =
      month.endMs + (remittanceDayOfMonth - 1) * dayMs + 14 * hourMs + rng.below(2 * hourMs);
    const remittanceId = context.ids.next('remittance');
    remittances.push(
      context.log.append({
        type: 'tax.remitted',
        producer: 'tax',
        occurredAtMs: atMs,
        key: market.code,
        data: {
          remittance_id: remittanceId,
          market: market.code,
          currency: market.currency,
          amount: context.amounts.write(net),
          period: month.label,
        },
        effects: [taxEffect(market.code, negate(net))],
      }),
    );
  }
  return remittances;
}

function monthlyTaxNets(
  drafts: readonly EventDraft[],
  startMs: number,
  endMs: number,
): Map<string, Money> {
  const nets = new Map<string, Money>();
  for (const draft of drafts) {
    if (draft.occurredAtMs < startMs || draft.occurredAtMs >= endMs) continue;
    for (const effect of draft.effects) {
      if (effect.kind !== 'tax') continue;
      const sofar = nets.get(effect.market) ?? zero(effect.delta.currency);
      nets.set(effect.market, add(sofar, effect.delta));
    }
  }
  return nets;
}
