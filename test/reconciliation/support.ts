// Small hand-written journals and files for the reconciliation tests.
import { eventLine } from '../support/ledger.ts';

export function capture(n: number, at: string, over: Record<string, string> = {}): string {
  return eventLine('payment.captured', at, {
    payment_id: `pay_${n}`, rental_id: `r_${n}`, driver_id: `d_${n}`, owner_id: `o_${n}`, market: 'US-CA',
    processor: 'stripe', processor_ref: `ch_${n}`, currency: 'USD', rental_amount: '100.00', commission: '25.00',
    protection_fee: '10.00', service_fee: '5.00', tax: '9.00', deposit: '50.00', processor_fee: '5.00',
    total: '174.00', ...over,
  });
}

export const processorHeader = 'balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id';
export const bankHeader = 'booking_date,value_date,amount,currency,reference,description';

export function chargeRow(n: number, created = '2026-10-01 10:00:00'): string {
  return `txn_${n},${created},2026-10-03 10:00:00,usd,174.00,5.00,169.00,charge,ch_${n}`;
}
