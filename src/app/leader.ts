// One leader among the `ledger serve` processes that share a database: the one holding a
// PostgreSQL advisory lock on a connection of its own. The others (standbys) try the lock
// every pollMs; a leader that dies (SIGKILL, a lost machine) loses its session and so the
// lock, and a standby takes over within pollMs of the server noticing. The lock lives and
// dies with that one connection, so losing the connection is losing leadership: the
// leader's work is stopped at once, before the lock could be anyone else's for long. The
// leader also checks the connection every pollMs, so a connection that hangs rather than
// breaks is noticed too. Work the leader runs must still be safe to overlap for a moment
// (a run in hand when leadership was lost): the schedulers record each occurrence under
// a key of its own (see src/reports/scheduler.ts, src/reconciliation/nightly.ts).
import type { Client, Pool } from '../db/database.ts';
import { invariant } from '../errors.ts';
import { backoffDelayMs, type Backoff } from './retry.ts';
import { sleepMs } from '../sleep.ts';

/**
 * pg_advisory_lock key of the leader. Taken keys: 7_347_001 migrations (migrate.ts),
 * 7_347_002 the service login (service-login.ts); sharing one would make a starting
 * service wait for as long as the leader lives.
 */
export const leaderLockKey = 7_347_003;

/** What only the leader runs; stop() ends it and resolves when its work in hand is done. */
export type LeaderWork = { stop(): Promise<void> };

export type LeaderOptions = {
  /** A pool of its own (one connection), not the service's: the lock is its session. */
  readonly pool: Pool;
  readonly pollMs: number;
  readonly log: (line: string) => void;
  /** Starts the leader's work; called each time this process becomes the leader. */
  readonly lead: () => LeaderWork;
};

export type Election = {
  isLeader(): boolean;
  /** Stops the leader's work (waiting for it), releases the lock, and stops campaigning. */
  stop(): Promise<void>;
};

export function startElection(options: LeaderOptions): Election {
  invariant(options.pollMs > 0, 'the leader lock is polled at a positive interval');
  const controller = new AbortController();
  const state = { leading: false };
  const campaigning = campaign(options, controller.signal, state);
  return {
    isLeader: () => state.leading,
    async stop() {
      controller.abort();
      await campaigning;
    },
  };
}

/** Until stopped: connect, try the lock every pollMs, lead while it is held; on a failure, back off. */
async function campaign(o: LeaderOptions, signal: AbortSignal, state: { leading: boolean }): Promise<void> {
  const backoff: Backoff = { initialMs: Math.min(500, o.pollMs), maxMs: o.pollMs };
  let failures = 0;
  while (!signal.aborted) {
    let client: Client | null = null;
    let failed: Error | null = null;
    try {
      client = await o.pool.connect();
      const lost = connectionLoss(client);
      failures = 0;
      while (!signal.aborted) {
        if (await tryLock(client, answerTimeoutMs(o))) {
          if (signal.aborted) await client.query('SELECT pg_advisory_unlock($1)', [leaderLockKey]);
          else await lead(client, lost, o, signal, state);
          break;
        }
        const problem = await Promise.race([sleepMs(o.pollMs, signal).then(() => null), lost]);
        if (problem !== null) throw problem;
      }
    } catch (error) {
      failed = error as Error;
    } finally {
      client?.release(failed ?? undefined);
    }
    if (failed !== null) {
      failures += 1;
      const delayMs = backoffDelayMs(backoff, failures);
      o.log(`leader: the lock's connection failed (${failed.message}); trying again in ${delayMs} ms`);
      await sleepMs(delayMs, signal);
    }
  }
}

/**
 * Runs the leader's work while the lock is held. Returns when stopped (the lock released);
 * throws when the connection is lost, after stopping the work.
 */
async function lead(
  client: Client, lost: Promise<Error>, o: LeaderOptions, signal: AbortSignal, state: { leading: boolean },
): Promise<void> {
  o.log(`leader: this process (pid ${process.pid}) is the leader; it runs the report schedule and ` +
    'the nightly reconciliation');
  state.leading = true;
  const work = o.lead();
  try {
    while (!signal.aborted) {
      const problem = await Promise.race([sleepMs(o.pollMs, signal).then(() => null), lost]);
      if (problem !== null) throw problem;
      if (!signal.aborted) await checkAlive(client, answerTimeoutMs(o));
    }
  } catch (error) {
    state.leading = false;
    const stopped = work.stop(); // the cron tasks stop now; a run in hand finishes (its key keeps it single)
    o.log(`leader: lost the leader lock (${(error as Error).message}); the schedulers are stopped`);
    await stopped;
    throw error;
  }
  state.leading = false;
  await work.stop();
  await client.query('SELECT pg_advisory_unlock($1)', [leaderLockKey]);
  o.log('leader: stopped; the leader lock is released');
}

/** How long a query on the lock's connection may take before the connection counts as lost. */
function answerTimeoutMs(o: LeaderOptions): number {
  return Math.max(o.pollMs, 5_000);
}

async function tryLock(client: Client, timeoutMs: number): Promise<boolean> {
  const result = await withTimeout(client.query<{ won: boolean }>('SELECT pg_try_advisory_lock($1) AS won',
    [leaderLockKey]), timeoutMs);
  return result.rows[0]?.won === true;
}

/** A round trip on the lock's connection; one that does not answer within timeoutMs is lost. */
async function checkAlive(client: Client, timeoutMs: number): Promise<void> {
  await withTimeout(client.query('SELECT 1'), timeoutMs);
}

/** Resolves with the error the first time the connection errors or ends; never rejects. */
function connectionLoss(client: Client): Promise<Error> {
  return new Promise((resolve) => {
    client.once('error', (error: Error) => resolve(error));
    client.once('end', () => resolve(new Error('the connection ended')));
  });
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
