// The marketplace the generator simulates: markets (each with one currency and one card
// processor, fixed), the processors' fee schedules, and the owners and drivers. Rates
// are decimal strings for applyRate, so that no rate is ever a float.
import type { CurrencyCode, Rounding } from '../ledger/money.ts';
import type { IdFactory } from './ids.ts';
import type { Rng } from './prng.ts';

export type ProcessorName = 'stripe' | 'adyen';

export type Market = {
  readonly code: string;
  readonly currency: CurrencyCode;
  readonly processor: ProcessorName;
  /** Sales tax on rental + protection + service, as the jurisdiction sets it. */
  readonly taxRate: string;
  /** The driver's service fee, a share of the rental amount. */
  readonly serviceFeeRate: string;
  /** Relative share of rentals booked in the market. */
  readonly weight: number;
};

export const markets: readonly Market[] = [
  {
    code: 'US-CA',
    currency: 'USD',
    processor: 'stripe',
    taxRate: '0.0725',
    serviceFeeRate: '0.10',
    weight: 30,
  },
  {
    code: 'US-TX',
    currency: 'USD',
    processor: 'stripe',
    taxRate: '0.0625',
    serviceFeeRate: '0.10',
    weight: 20,
  },
  {
    code: 'US-NY',
    currency: 'USD',
    processor: 'adyen',
    taxRate: '0.08875',
    serviceFeeRate: '0.12',
    weight: 20,
  },
  {
    code: 'CA-ON',
    currency: 'CAD',
    processor: 'stripe',
    taxRate: '0.13',
    serviceFeeRate: '0.10',
    weight: 18,
  },
  {
    code: 'CA-BC',
    currency: 'CAD',
    processor: 'adyen',
    taxRate: '0.12',
    serviceFeeRate: '0.10',
    weight: 12,
  },
];

/** Card processing fee: a share of the charged total plus a fixed amount per charge. */
export const processorFees: Record<ProcessorName, { rate: string; fixedMinor: bigint }> = {
  stripe: { rate: '0.029', fixedMinor: 30n },
  adyen: { rate: '0.0275', fixedMinor: 28n },
};

/**
 * Every rounding the generator makes, named once. Commission uses half-even so that the
 * platform's cut does not drift upwards over many bookings; fees and tax round half-up
 * as processors and tax tables do; proportional refunds round down so that a refund can
 * never exceed what is left to refund.
 */
export const roundings = {
  commission: 'halfEven',
  protection: 'halfUp',
  service: 'halfUp',
  tax: 'halfUp',
  processorFee: 'halfUp',
  refundShare: 'down',
  depositShare: 'down',
  disputeShare: 'down',
} as const satisfies Record<string, Rounding>;

export type Owner = {
  readonly ownerId: string;
  readonly market: Market;
  /** The platform's cut of this owner's price, by the owner's plan. */
  readonly commissionRate: string;
  /** Minute of the UTC day at which this owner's payouts are sent. */
  readonly payoutMinuteOfDay: number;
  /** Relative share of rentals: fleets list many cars, most owners one or two. */
  readonly weight: number;
};

export type Driver = { readonly driverId: string };

const commissionRates = ['0.20', '0.225', '0.25'] as const;
const ownerWeights: ReadonlyArray<readonly [number, number]> = [
  [1, 50],
  [2, 25],
  [4, 15],
  [12, 10],
];

export function createOwners(rng: Rng, ids: IdFactory, count: number): Owner[] {
  const marketChoices = markets.map((market) => [market, market.weight] as const);
  const owners: Owner[] = [];
  for (let index = 0; index < count; index += 1) {
    owners.push({
      ownerId: ids.next('owner'),
      market: rng.weighted(marketChoices),
      commissionRate: rng.pick(commissionRates),
      payoutMinuteOfDay: rng.below(24 * 60),
      weight: rng.weighted(ownerWeights),
    });
  }
  return owners;
}

export function createDrivers(ids: IdFactory, count: number): Driver[] {
  const drivers: Driver[] = [];
  for (let index = 0; index < count; index += 1) drivers.push({ driverId: ids.next('driver') });
  return drivers;
}

/** Picks owners in proportion to their weight, by binary search over cumulative weights. */
export class OwnerPicker {
  private readonly cumulativeWeights: number[] = [];
  private readonly weightTotal: number;

  constructor(private readonly owners: readonly Owner[]) {
    let running = 0;
    for (const owner of owners) {
      running += owner.weight;
      this.cumulativeWeights.push(running);
    }
    this.weightTotal = running;
  }

  pick(rng: Rng): Owner {
    const ticket = rng.below(this.weightTotal);
    let low = 0;
    let high = this.cumulativeWeights.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.cumulativeWeights[middle] ?? 0) > ticket) high = middle;
      else low = middle + 1;
    }
    return this.owners[low] as Owner;
  }
}
