// The money that leaves the platform in bulk: the processor's daily payout of its balance
// to the bank, and the monthly tax remittance per market. Both are computed from the
// effects of the events already generated, so they agree with the stream: a processor
// payout on day d + 2 sweeps exactly the net clearing movement of day d (captures less
// refunds, deposit releases, disputes, owner transfers), which makes it negative on a
// day when more went out than came in, and leaves every processor's clearing balance at
// zero once the last day is swept. That is what the processor and bank files of
// RECONCILIATION.md will have to show.
import { add, isZero, negate, zero, type CurrencyCode, type Money } from '../ledger/money.ts';
import { markets, type ProcessorName } from './catalog.ts';
import { clearing, taxEffect, type EventDraft } from './drafts.ts';
import type { StageContext } from './records.ts';
import { dateText, dayMs, dayNumber, dayStartMs, hourMs } from './time.ts';

const processorNames: readonly ProcessorName[] = ['stripe', 'adyen'];
const currencyCodes: readonly CurrencyCode[] = ['USD', 'CAD'];
/** Processors pay out a day's net balance two days later (a T+2 rolling schedule). */
const payoutDelayDays = 2;

export function appendProcessorPayouts(context: StageContext, drafts: readonly EventDraft[]): EventDraft[] {
  const nets = dailyClearingNets(drafts);
  const payouts: EventDraft[] = [];
  for (const processor of processorNames) {
    for (const currency of currencyCodes) {
      const byDay = nets.get(clearingKey(processor, currency));
      if (byDay === undefined) continue;
      const days = [...byDay.keys()].sort((left, right) => left - right);
      for (const day of days) {
        const net = byDay.get(day) ?? zero(currency);
        if (!isZero(net)) payouts.push(appendProcessorPayout(context, processor, net, day + payoutDelayDays));
      }
    }
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
    type: 'processor.payout', producer: 'treasury', occurredAtMs: atMs, key: processorPayoutId,
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
export function appendTaxRemittances(context: StageContext, drafts: readonly EventDraft[]): EventDraft[] {
  const { month, rng } = context;
  const remittances: EventDraft[] = [];
  for (const market of markets) {
    let net = zero(market.currency);
    for (const draft of drafts) {
      if (draft.occurredAtMs < month.startMs || draft.occurredAtMs >= month.endMs) continue;
      for (const effect of draft.effects) {
        if (effect.kind === 'tax' && effect.market === market.code) net = add(net, effect.delta);
      }
    }
    if (net.minor <= 0n) continue;
    const atMs = month.endMs + (remittanceDayOfMonth - 1) * dayMs + 14 * hourMs + rng.below(2 * hourMs);
    const remittanceId = context.ids.next('remittance');
    remittances.push(context.log.append({
      type: 'tax.remitted', producer: 'tax', occurredAtMs: atMs, key: market.code,
      data: {
        remittance_id: remittanceId,
        market: market.code,
        currency: market.currency,
        amount: context.amounts.write(net),
        period: month.label,
      },
      effects: [taxEffect(market.code, negate(net))],
    }));
  }
  return remittances;
}
