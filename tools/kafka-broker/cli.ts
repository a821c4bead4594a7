// `npm run kafka`: a real Kafka broker in the foreground for local runs of the ledger.
// Stdout carries exactly one line, `KAFKA_BROKERS=127.0.0.1:PORT`, once the broker is
// ready, so that a script can `eval` or grep it; every other line goes to stderr.
// Ctrl-C (SIGINT) or SIGTERM stops the broker cleanly and removes its data.
import { startKafkaBroker, type KafkaBroker } from './broker.ts';

function logLine(line: string): void {
  process.stderr.write(`[kafka] ${line}\n`);
}

function stopOnSignals(broker: KafkaBroker): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second Ctrl-C while stopping must not start a second, racing shutdown.
    if (stopping) return;
    stopping = true;
    logLine(`${signal}: stopping`);
    broker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logLine(`stop failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A broker that dies on its own leaves nothing to serve: say so and fail loudly.
  void broker.exited().then(({ code, signal }) => {
    if (stopping) return;
    logLine(`broker exited unexpectedly (code ${code}, signal ${signal}); log: ${broker.logFile}`);
    process.exit(1);
  });
}

async function main(): Promise<void> {
  const broker = await startKafkaBroker({ log: logLine });
  process.stdout.write(`KAFKA_BROKERS=${broker.brokers}\n`);
  logLine(`log file: ${broker.logFile}; Ctrl-C to stop`);
  stopOnSignals(broker);
}

main().catch((error: unknown) => {
  logLine(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
