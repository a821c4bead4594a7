// Every worker thread's entry point (the projector's batch threads, the chain walk):
// plain JavaScript, so that a thread starts the same way under `ledger` (tsx registered
// in code), `node --import tsx` and vitest. It registers the TypeScript loader for this
// thread, then loads the body named by workerData.module.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
