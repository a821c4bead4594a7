// `npm run bench -- NAME`: runs one benchmark (or all) and prints its figures as ratios
// against a baseline measured in the same run, with the machine and the data size.
import os from 'node:os';

const benches: Record<string, () => Promise<void>> = {
  projector: async () => (await import('./projector.ts')).benchProjector(),
  kafka: async () => (await import('./kafka.ts')).benchKafka(),
  reconcile: async () => (await import('./reconcile.ts')).benchReconcile(),
  reports: async () => (await import('./reports.ts')).benchReports(),
  api: async () => (await import('./api.ts')).benchApi(),
  web: async () => (await import('./web.ts')).benchWeb(),
};

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `node ${process.version}, ${os.platform()} ${os.release()}`;
}

const wanted = process.argv.slice(2);
const names = wanted.length === 0 ? Object.keys(benches) : wanted;
for (const name of names) {
  const bench = benches[name];
  if (bench === undefined) {
    process.stderr.write(`bench: unknown benchmark ${JSON.stringify(name)}; known: ${Object.keys(benches).join(', ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`== ${name}\n${machineLine()}\n`);
  await bench();
}
