// The body of the chain thread (chain-thread.ts): its own connection, the chain checks
// exactly as the caller's thread would run them (chain-checks.ts), one reply, then exit.
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { invariant } from '../errors.ts';
import { chainChecks } from './chain-checks.ts';
import { describeThreadError } from '../threads/thread-errors.ts';
import { type ChainReply, type ChainSetup } from './chain-thread.ts';

const port = parentPort;
invariant(port !== null, 'chain-worker.ts runs as a worker thread');
const setup = workerData as ChainSetup;
const pool = new pg.Pool({ ...setup.connection, max: 1 });
pool.on('error', () => undefined); // an idle connection lost: the query that needed it fails instead

let reply: ChainReply;
try {
  const progress = setup.progress
    ? (done: number, total: number) => port.postMessage({ kind: 'progress', done, total } satisfies ChainReply)
    : undefined;
  reply = { kind: 'result', checks: await chainChecks(pool, setup.files ?? undefined, setup.trusted, progress) };
} catch (error) {
  reply = { kind: 'error', error: describeThreadError(error) };
} finally {
  await pool.end().catch(() => undefined);
}
port.postMessage(reply);
