// Where progress.ts's lines go: stderr, never stdout (a command's --json object is alone
// there). A command shows one line rewritten in place, and only when stderr is a terminal;
// the service (`ledger serve`) writes a log line instead, JSON when stderr is not a terminal.
import { performance } from 'node:perf_hooks';
import { ProgressMeter, progressJson, progressLine } from './progress.ts';

export type ProgressSink = {
  /** How much is done (absolute), and the total when known. */
  update(done: number, total?: number | null): void;
  /** Shows the final line; idempotent. */
  finish(): void;
};

type Stream = Pick<NodeJS.WriteStream, 'write' | 'isTTY'> & { readonly columns?: number };

/**
 * A line rewritten in place with \r, at most one per second, and a final line with a
 * newline; null when the stream is no terminal (or the command prints --json), so that a
 * caller can also skip the work of finding a total.
 */
export function terminalProgress(
  label: string, unit: string, options: { stream?: Stream; json?: boolean } = {},
): ProgressSink | null {
  const stream = options.stream ?? process.stderr;
  if (options.json === true || stream.isTTY !== true) return null;
  const meter = new ProgressMeter({ label, unit, clock: () => performance.now() });
  let finished = false;
  return {
    update(done, total) {
      meter.update(done, total);
      const line = finished ? null : meter.line();
      if (line !== null) stream.write(`\r${fitted(line, stream.columns)}\x1b[K`);
    },
    finish() {
      if (finished) return;
      finished = true;
      stream.write(`\r${fitted(meter.finalLine(), stream.columns)}\x1b[K\n`);
    },
  };
}

/** A line that wraps could not be rewritten by \r: cut to the terminal's width when it is known. */
function fitted(line: string, columns: number | undefined): string {
  return columns === undefined || columns < 20 || line.length < columns ? line : `${line.slice(0, columns - 2)}…`;
}

/**
 * The service's log of a long task: a line every intervalMs (plain on a terminal, a JSON
 * log line otherwise), with whatever `detail` adds (the projector's lag per partition).
 */
export function logProgress(
  label: string, unit: string, detail: () => Record<string, unknown> = () => ({}),
  options: { stream?: Stream; intervalMs?: number } = {},
): ProgressSink {
  const stream = options.stream ?? process.stderr;
  const meter = new ProgressMeter({ label, unit, clock: () => performance.now(), intervalMs: options.intervalMs ?? 2_000 });
  return {
    update(done, total) {
      meter.update(done, total);
      if (meter.line() === null) return;
      const snapshot = meter.snapshot();
      if (stream.isTTY === true) {
        const extra = Object.entries(detail()).map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`);
        stream.write(`${[progressLine(label, snapshot), ...extra].join('; ')}\n`);
      } else {
        stream.write(`${JSON.stringify({ level: 'info', msg: label, ...progressJson(snapshot), ...detail() })}\n`);
      }
    },
    finish() { /* a service's log has no last line to draw */ },
  };
}
