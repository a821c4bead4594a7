// A download load for the api bench: `connections` clients, each fetching the URL again
// as soon as its previous body is read in full, for `seconds`, in a worker thread (so the
// servers' event loop is not the client's). fetch (undici, llhttp) rather than
// autocannon, whose JavaScript HTTP parser, reading 50 bodies of 10 MB at once, was
// itself the limit and measured the service and the baseline alike.
import { Worker } from 'node:worker_threads';

export type DownloadLoad = { url: string; headers: Record<string, string>; connections: number; seconds: number };
export type DownloadResult = { latenciesMs: number[]; bytes: number; errors: number; elapsedMs: number };

/** The worker's code as plain JavaScript: a worker does not get tsx's loader for a .ts entry. */
const workerSource = `
const { parentPort, workerData: load } = require('node:worker_threads');
(async () => {
  const started = performance.now();
  const endMs = started + load.seconds * 1000;
  const latenciesMs = [];
  let bytes = 0;
  let errors = 0;
  await Promise.all(Array.from({ length: load.connections }, async () => {
    while (performance.now() < endMs) {
      const begun = performance.now();
      try {
        const response = await fetch(load.url, { headers: load.headers });
        if (response.body !== null) for await (const chunk of response.body) bytes += chunk.length;
        if (!response.ok) errors += 1;
        latenciesMs.push(performance.now() - begun);
      } catch {
        errors += 1;
      }
    }
  }));
  parentPort.postMessage({ latenciesMs, bytes, errors, elapsedMs: performance.now() - started });
})();
`;

export function downloadLoad(load: DownloadLoad): Promise<DownloadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource, { eval: true, workerData: load, execArgv: [] });
    worker.once('message', (result: DownloadResult) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}
