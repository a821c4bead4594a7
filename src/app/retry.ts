// The one retry policy of the service's background work (the leader lock's connection,
// and whatever else the application layer keeps alive): wait, doubling, up to a cap. The
// projector's batch retries live with the consumer (src/log/kafka) because they are part
// of its fencing; everything src/app starts uses this. The wait itself is src/sleep.ts.
import { invariant } from '../errors.ts';

export type Backoff = { readonly initialMs: number; readonly maxMs: number };

/** The wait before attempt `attempt` (1 = the first retry): initial, doubled each time, capped. */
export function backoffDelayMs(policy: Backoff, attempt: number): number {
  invariant(Number.isInteger(attempt) && attempt >= 1, 'a retry attempt counts from 1');
  invariant(policy.initialMs > 0 && policy.maxMs >= policy.initialMs, 'a backoff grows from a positive start');
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 30));
}
