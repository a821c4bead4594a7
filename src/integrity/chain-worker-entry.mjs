// The chain thread's entry point (chain-thread.ts): plain JavaScript, so that it starts the
// same way under `ledger` (tsx registered in code), `node --import tsx` and vitest; it
// registers the TypeScript loader for this thread, then loads the thread's body.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
