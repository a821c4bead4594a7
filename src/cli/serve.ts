// `ledger serve` (npm start): the service of src/app/service.ts, stopped by SIGINT or
// SIGTERM. The only signal handlers of the service are here.
import type { Config } from '../config.ts';
import { UserError } from '../errors.ts';
import type { DemoPolicy } from '../app/demo.ts';
import { runService } from '../app/service.ts';

export type ServeFlags = { readonly demo?: boolean; readonly noDemo?: boolean };

export async function serve(config: Config, flags: ServeFlags = {}): Promise<void> {
  const demo = demoPolicy(flags);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const say = (line: string) => process.stderr.write(`${line}\n`);
  try {
    await runService(config, { demo, signal: controller.signal, say });
    say('ledger: stopped');
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}

function demoPolicy(flags: ServeFlags): DemoPolicy {
  if (flags.demo === true && flags.noDemo === true) {
    throw new UserError('bad_flag', 'ledger serve: --demo and --no-demo contradict each other; give one');
  }
  return flags.demo === true ? 'always' : flags.noDemo === true ? 'never' : 'auto';
}
