// The chain checks on a thread of their own. Walking the chains is JavaScript work (rows
// decoded, a million entries rebuilt and hashed) and a reconciliation's matching is too;
// on one thread they take turns, on two they share the machine's cores with PostgreSQL.
// The thread opens its own connection with the caller's pool's settings (the same server,
// database and role) and runs chain-checks.ts exactly as the caller's thread would; a pool
// whose settings cannot be handed over (no connection string) is walked in this thread.
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import type { Pool } from '../db/database.ts';
import { fromThreadError, threadEntryUrl, type ThreadError } from '../threads/thread-errors.ts';
import { chainChecks, type ChainChecks } from './chain-checks.ts';
import type { CheckpointFile } from './checkpoints.ts';
import type { TrustedKeys } from '../signing/trust.ts';
import type { WalkProgress } from './chains.ts';

/** What the caller's pool connects with: the settings a thread needs to connect the same way. */
export type ThreadConnection = Pick<pg.PoolConfig, 'connectionString' | 'options' | 'application_name' |
  'connectionTimeoutMillis'>;

export type ChainSetup = {
  readonly module: string;
  readonly connection: ThreadConnection;
  readonly files: readonly CheckpointFile[] | null;
  readonly trusted: TrustedKeys | null;
  /** Whether the thread reports its walk (a `progress` message per page). */
  readonly progress: boolean;
};

export type ChainReply =
  | { readonly kind: 'result'; readonly checks: ChainChecks }
  | { readonly kind: 'error'; readonly error: ThreadError }
  | { readonly kind: 'progress'; readonly done: number; readonly total: number };

/**
 * The thread's heap: the walk keeps about two pages and the hashes the checkpoints name
 * (tens of MiB); a young generation larger than V8's default lets a page die young, so
 * that collecting it costs little.
 */
export const chainThreadLimits = { oldGenerationMiBMax: 256, youngGenerationMiBMax: 48 } as const;

export async function chainChecksInThread(
  pool: Pool, files: readonly CheckpointFile[] | undefined, trusted: TrustedKeys | null = null,
  onProgress?: WalkProgress,
): Promise<ChainChecks> {
  const connection = threadConnection(pool);
  if (connection === null) return chainChecks(pool, files, trusted, onProgress);
  const setup: ChainSetup = {
    module: new URL('./chain-worker.ts', import.meta.url).href, connection, files: files ?? null, trusted,
    progress: onProgress !== undefined,
  };
  return new Promise<ChainChecks>((resolve, reject) => {
    // execArgv []: the entry registers the TypeScript loader itself, whatever this process ran with.
    const worker = new Worker(threadEntryUrl, {
      workerData: setup, execArgv: [],
      resourceLimits: {
        maxOldGenerationSizeMb: chainThreadLimits.oldGenerationMiBMax,
        maxYoungGenerationSizeMb: chainThreadLimits.youngGenerationMiBMax,
      },
    });
    let reply: ChainReply | null = null;
    worker.on('message', (message: ChainReply) => {
      if (message.kind === 'progress') onProgress?.(message.done, message.total);
      else reply = message;
    });
    worker.on('error', (error) => reject(new Error(`the chain thread failed: ${error.message}`)));
    worker.on('exit', (code) => {
      const settled = reply as ChainReply | null;
      if (settled?.kind === 'result') resolve(settled.checks);
      else if (settled?.kind === 'error') reject(fromThreadError(settled.error));
      else reject(new Error(`the chain thread exited (code ${code}) without a reply`));
    });
  });
}

function threadConnection(pool: Pool): ThreadConnection | null {
  const { connectionString, options, application_name: applicationName, connectionTimeoutMillis } = pool.options;
  if (typeof connectionString !== 'string') return null;
  return {
    connectionString,
    ...(options === undefined ? {} : { options }),
    ...(applicationName === undefined ? {} : { application_name: applicationName }),
    ...(connectionTimeoutMillis === undefined ? {} : { connectionTimeoutMillis }),
  };
}
