// Builds every good event of the stream, stage by stage. The order of stages matters
// because each later stage reads the effects of the earlier ones: owner payouts draw on
// what completions (and goodwill adjustments) made payable; processor payouts sweep what
// every event, owner payouts included, moved through clearing; tax remittances pay what
// the month's captures and refunds left in tax payable.
import { invariant } from '../errors.ts';
import type { AdjustmentApprover } from '../ledger/approval.ts';
import { appendAdjustments } from './adjustments.ts';
import { createDrivers, createOwners, OwnerPicker } from './catalog.ts';
import { AmountWriter, DraftLog } from './drafts.ts';
import { IdFactory } from './ids.ts';
import { appendOwnerPayouts } from './owner-payouts.ts';
import { Rng } from './prng.ts';
import type { DisputeRecord, GeneratedWorld, RentalRecord, StageContext } from './records.ts';
import { simulateRental } from './rentals.ts';
import { appendProcessorPayouts, appendTaxRemittances } from './settlements.ts';
import type { MonthWindow } from './time.ts';

/** Rentals per owner and per driver, on average: owners list several cars over a month. */
const rentalsPerOwner = 4;
const rentalsPerDriver = 2;

export function generateWorld(
  seed: number,
  rentalCount: number,
  month: MonthWindow,
  approve: AdjustmentApprover,
): GeneratedWorld {
  invariant(rentalCount > 0, 'at least one rental');
  const catalogRng = new Rng(seed, 'catalog');
  const ids = new IdFactory(catalogRng);
  const owners = createOwners(catalogRng, ids, Math.ceil(rentalCount / rentalsPerOwner));
  const drivers = createDrivers(ids, Math.ceil(rentalCount / rentalsPerDriver));
  const log = new DraftLog(new Rng(seed, 'envelopes'));
  const amounts = new AmountWriter(new Rng(seed, 'amount-forms'));
  const stage = (name: string): StageContext => {
    const rng = new Rng(seed, name);
    return { rng, ids: ids.fork(rng), log, amounts, month };
  };

  const rentalStage = stage('rentals');
  const picker = new OwnerPicker(owners);
  const rentals: RentalRecord[] = [];
  const disputes: DisputeRecord[] = [];
  for (let index = 0; index < rentalCount; index += 1) {
    const owner = picker.pick(rentalStage.rng);
    const driver = rentalStage.rng.pick(drivers);
    const simulated = simulateRental(rentalStage, owner, driver);
    rentals.push(simulated.rental);
    disputes.push(...simulated.disputes);
  }
  const activeOwners = rentals.map((rental) => rental.owner);
  appendAdjustments(stage('backoffice'), activeOwners, rentalCount, approve);
  // Each stage reads a snapshot: what it appends itself is not an input to it.
  const payouts = appendOwnerPayouts(stage('payouts'), owners, [...log.drafts]);
  appendProcessorPayouts(stage('treasury'), [...log.drafts]);
  appendTaxRemittances(stage('tax'), [...log.drafts]);
  return { month, owners, drivers, rentals, disputes, payouts, drafts: log.drafts, ids };
}
