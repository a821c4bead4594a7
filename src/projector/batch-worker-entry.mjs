// A projector thread's entry point: plain JavaScript, so that it starts the same way
// under `ledger` (tsx registered in code), `node --import tsx` and vitest, then registers
// the TypeScript loader for this thread and loads the worker's body.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
