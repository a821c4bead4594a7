// The body of a projector thread (batch-workers.ts): a batch in flight per database
// connection, each projected by the same function the main thread would use.
import { parentPort, workerData } from 'node:worker_threads';
import { invariant } from '../errors.ts';
import { createPool } from '../db/database.ts';
import { approvalKeys } from '../ledger/approval.ts';
import { describeThreadError } from '../threads/thread-errors.ts';
import {
  batchesInFlightPerThread, fromWire, type WorkerReply, type WorkerRequest, type WorkerSetup,
} from './batch-workers.ts';
import { existingLinePartitions, projectBatchWithRetries } from './project-batch.ts';

const port = parentPort;
invariant(port !== null, 'batch-worker.ts runs as a worker thread');
const setup = workerData as WorkerSetup;
const pool = createPool(setup.databaseUrl, setup.databaseRole, batchesInFlightPerThread);
/** A KeyObject per trusted key, made once for this thread's life, not per adjustment. */
const keys = approvalKeys(setup.trustedKeys);
/** The months with a line partition, read once and shared by the batches in flight. */
let ensured: Promise<Set<string>> | null = null;

port.on('message', (request: WorkerRequest) => {
  void project(request).then((reply) => port.postMessage(reply));
});

async function project(request: WorkerRequest): Promise<WorkerReply> {
  try {
    // Read once, on the first batch; a failure here is retried with the next batch.
    ensured ??= existingLinePartitions(pool).catch((error: unknown) => {
      ensured = null;
      throw error;
    });
    const result = await projectBatchWithRetries(pool, fromWire(request.batch), await ensured, keys,
      setup.definingDecisions ? 'defining' : 'hot');
    return { kind: 'result', id: request.id, result };
  } catch (error) {
    return { kind: 'error', id: request.id, error: describeThreadError(error) };
  }
}
