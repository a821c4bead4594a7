// The journal's items of a run, held column by column in typed arrays: a run holds one
// item per entry (a million is routine), and an object per item costs about 370 bytes
// where these columns cost about 45 plus the reference string. Items go in as objects
// and come out as objects only for the few a run reports.
import { invariant } from '../errors.ts';
import { currencies, type CurrencyCode } from '../ledger/money.ts';
import { reconLimits } from './limits.ts';
import { bankCategories, processorCategories, type Category, type LedgerItem } from './types.ts';

const currencyCodes = Object.keys(currencies) as CurrencyCode[];
const categoryNames: readonly Category[] = [...processorCategories, ...bankCategories];
/** feeMinor is null for most items; this value stands for null in its column. */
const feeAbsent = -(2n ** 63n);
const initialCapacity = 1024;

export class LedgerItemStore {
  #count = 0;
  #references: string[] = [];
  #topics: string[] = [];
  #amounts = new BigInt64Array(initialCapacity);
  #fees = new BigInt64Array(initialCapacity);
  #effectiveUs = new Float64Array(initialCapacity);
  #offsets = new Float64Array(initialCapacity);
  #arrivalDays = new Int32Array(initialCapacity);
  #partitions = new Int32Array(initialCapacity);
  #codes = new Uint8Array(initialCapacity * 4); // source, category, currency, topic

  get count(): number {
    return this.#count;
  }

  add(item: LedgerItem): number {
    invariant(this.#count < reconLimits.reconItemsMax, 'ledger items within the bound');
    if (this.#count === this.#amounts.length) this.#grow();
    const at = this.#count;
    let topicIndex = this.#topics.indexOf(item.topic);
    if (topicIndex < 0) topicIndex = this.#topics.push(item.topic) - 1;
    invariant(topicIndex < 256, 'at most 256 topics');
    this.#references.push(item.reference);
    this.#amounts[at] = item.amountMinor;
    this.#fees[at] = item.feeMinor ?? feeAbsent;
    this.#effectiveUs[at] = item.effectiveAtUs;
    this.#offsets[at] = item.offset;
    this.#arrivalDays[at] = item.arrivalDay ?? -1;
    this.#partitions[at] = item.partition;
    this.#codes[at * 4] = item.source === 'bank' ? 1 : 0;
    this.#codes[at * 4 + 1] = categoryNames.indexOf(item.category);
    this.#codes[at * 4 + 2] = currencyCodes.indexOf(item.currency);
    this.#codes[at * 4 + 3] = topicIndex;
    this.#count += 1;
    return at;
  }

  get(at: number): LedgerItem {
    invariant(at >= 0 && at < this.#count, 'an item that was added');
    const fee = this.#fees[at] as bigint;
    const arrival = this.#arrivalDays[at] as number;
    return {
      source: this.#codes[at * 4] === 1 ? 'bank' : 'processor',
      category: categoryNames[this.#codes[at * 4 + 1] as number] as Category,
      reference: this.#references[at] as string,
      currency: currencyCodes[this.#codes[at * 4 + 2] as number] as CurrencyCode,
      amountMinor: this.#amounts[at] as bigint,
      feeMinor: fee === feeAbsent ? null : fee,
      effectiveAtUs: this.#effectiveUs[at] as number,
      arrivalDay: arrival < 0 ? null : arrival,
      topic: this.#topics[this.#codes[at * 4 + 3] as number] as string,
      partition: this.#partitions[at] as number,
      offset: this.#offsets[at] as number,
    };
  }

  amountMinor(at: number): bigint {
    return this.#amounts[at] as bigint;
  }

  #grow(): void {
    const size = this.#amounts.length * 2;
    const grown = <T extends BigInt64Array | Float64Array | Int32Array | Uint8Array>(old: T, make: (n: number) => T) => {
      const next = make(old === this.#codes ? size * 4 : size);
      next.set(old as never);
      return next;
    };
    this.#amounts = grown(this.#amounts, (n) => new BigInt64Array(n));
    this.#fees = grown(this.#fees, (n) => new BigInt64Array(n));
    this.#effectiveUs = grown(this.#effectiveUs, (n) => new Float64Array(n));
    this.#offsets = grown(this.#offsets, (n) => new Float64Array(n));
    this.#arrivalDays = grown(this.#arrivalDays, (n) => new Int32Array(n));
    this.#partitions = grown(this.#partitions, (n) => new Int32Array(n));
    this.#codes = grown(this.#codes, (n) => new Uint8Array(n));
  }
}
