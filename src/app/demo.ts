// Demo data for a first look: `ledger serve` fills an empty embedded log with a generated
// month of marketplace events. A Kafka topic is a journal other systems read and nobody
// can take a message back from, so synthetic events go there only when asked (--demo).
import type { Config } from '../config.ts';
import { generateEventStream } from '../generator/index.ts';
import { openLog } from '../log/open.ts';
import { publishLines } from '../log/publish.ts';
import { approverFor } from '../ledger/approval.ts';
import { loadSigningKey } from '../signing/keys.ts';

/** auto: the embedded log only; always: Kafka too (--demo); never: nothing (--no-demo). Only an empty log is seeded. */
export type DemoPolicy = 'auto' | 'always' | 'never';

const demo = { seed: 1, rentals: 2_000 } as const;

/** Makes sure the first topic exists (the projector needs it) and seeds it as the policy says. */
export async function prepareLog(config: Config, policy: DemoPolicy, say: (line: string) => void): Promise<void> {
  const log = await openLog(config);
  try {
    const topic = config.topics[0] as string;
    await log.producer.ensureTopic(topic, log.newTopicPartitions);
    if (policy === 'never') return;
    const ends = await log.producer.endOffsets(topic);
    if ([...ends.values()].some((end) => end > 0)) return;
    if (policy === 'auto' && log.kind === 'kafka') {
      say(`ledger: topic ${topic} is empty; demo events go into a Kafka topic only with \`ledger serve --demo\``);
      return;
    }
    const month = previousMonth(new Date());
    // Demo adjustments carry the approval the service itself would sign (EVENTS.md), by the data dir's key.
    const approve = approverFor(await loadSigningKey(config.dataDir, config.signingKeyPem));
    const lines = generateEventStream({ seed: demo.seed, rentals: demo.rentals, month, badMessages: true, approve });
    await publishLines(log.producer, topic, log.newTopicPartitions, lines);
    say(`ledger: the log was empty; published ${lines.length} demo events for ${month} (seed ${demo.seed})`);
  } finally {
    await log.producer.close();
  }
}

function previousMonth(now: Date): string {
  const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return date.toISOString().slice(0, 7);
}
