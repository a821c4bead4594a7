// Progress of a long command: a meter fed counts (how much is done, and the total when one
// is known) with a clock, that gives a rate, an estimate of the time left and one line to
// show. Pure: the clock is passed in and nothing is written here, so the rate, the ETA and
// the throttle are unit-tested with a controlled clock; progress-stderr.ts shows the lines.

export type ProgressSnapshot = {
  readonly done: number;
  /** null while no total is known (the ETA is then null too). */
  readonly total: number | null;
  readonly unit: string;
  /** Over the last windowMs (since the start until then); null before any time has passed. */
  readonly rate_per_second: number | null;
  readonly eta_seconds: number | null;
  readonly elapsed_seconds: number;
};

export type MeterOptions = {
  /** What is counted, plural: `messages`, `rows`, `entries`, `lines`. */
  readonly unit: string;
  /** What the command is doing: `projecting`, `rendering`. */
  readonly label: string;
  /** Milliseconds, monotonic (performance.now in the commands). */
  readonly clock: () => number;
  /** At most one line per this many milliseconds (default 1000). */
  readonly intervalMs?: number;
  /** The rate is taken over about the last this many milliseconds (default 10 s), so a change of pace shows. */
  readonly windowMs?: number;
};

type Sample = { readonly at: number; readonly done: number };

export class ProgressMeter {
  readonly unit: string;
  readonly label: string;
  private readonly clock: () => number;
  private readonly intervalMs: number;
  private readonly windowMs: number;
  private readonly startedAt: number;
  private done = 0;
  private total: number | null = null;
  /** Bounded: one sample per windowMs / samplesPerWindow at most. */
  private samples: Sample[];
  private lastLineAt: number | null = null;

  constructor(options: MeterOptions) {
    this.unit = options.unit;
    this.label = options.label;
    this.clock = options.clock;
    this.intervalMs = options.intervalMs ?? 1_000;
    this.windowMs = options.windowMs ?? 10_000;
    this.startedAt = this.clock();
    this.samples = [{ at: this.startedAt, done: 0 }];
  }

  /** How much is done so far (absolute), and the total when known; a total below done is taken as done. */
  update(done: number, total?: number | null): void {
    this.done = done;
    if (total !== undefined) this.total = total;
    const now = this.clock();
    const last = this.samples[this.samples.length - 1] as Sample;
    if (now - last.at >= this.windowMs / samplesPerWindow) {
      this.samples.push({ at: now, done });
      // Keep one sample at or before the window's start, so the rate covers the whole window.
      while (this.samples.length > 2 && now - (this.samples[1] as Sample).at >= this.windowMs) this.samples.shift();
    }
  }

  /** Adds to what is done. */
  add(count: number): void {
    this.update(this.done + count);
  }

  snapshot(): ProgressSnapshot {
    const now = this.clock();
    const oldest = this.samples[0] as Sample;
    const span = now - oldest.at;
    const rate = span > 0 ? ((this.done - oldest.done) * 1000) / span : null;
    const total = this.total === null ? null : Math.max(this.total, this.done);
    const left = total === null ? null : total - this.done;
    const eta = left === null ? null : left === 0 ? 0 : rate !== null && rate > 0 ? left / rate : null;
    return { done: this.done, total, unit: this.unit, rate_per_second: rate, eta_seconds: eta,
      elapsed_seconds: (now - this.startedAt) / 1000 };
  }

  /** The line to show now, or null when one was shown less than intervalMs ago. */
  line(): string | null {
    const now = this.clock();
    if (this.lastLineAt !== null && now - this.lastLineAt < this.intervalMs) return null;
    this.lastLineAt = now;
    return progressLine(this.label, this.snapshot());
  }

  /** The last line, whatever the throttle: what was done, in how long, at what rate on average. */
  finalLine(): string {
    const s = this.snapshot();
    const average = s.elapsed_seconds > 0 ? s.done / s.elapsed_seconds : null;
    return `${this.label}: ${count(s.done)} ${s.unit} in ${duration(s.elapsed_seconds)}` +
      (average === null ? '' : `, ${count(average)} ${s.unit}/s`);
  }
}

const samplesPerWindow = 20;

/** As the API and the service's log show it: whole units, whole seconds. */
export function progressJson(s: ProgressSnapshot) {
  return { done: s.done, total: s.total, unit: s.unit,
    rate_per_second: s.rate_per_second === null ? null : Math.round(s.rate_per_second),
    eta_seconds: s.eta_seconds === null ? null : Math.ceil(s.eta_seconds) };
}

/** `projecting: 12,000 of 48,000 messages (25%), 4,000 messages/s, ETA 9s`. */
export function progressLine(label: string, s: ProgressSnapshot): string {
  const of = s.total === null ? '' : ` of ${count(s.total)}`;
  const percent = s.total === null || s.total === 0 ? '' : ` (${Math.floor((s.done * 100) / s.total)}%)`;
  const rate = s.rate_per_second === null ? '' : `, ${count(s.rate_per_second)} ${s.unit}/s`;
  const eta = s.eta_seconds === null ? (s.total === null ? '' : ', ETA unknown') : `, ETA ${duration(s.eta_seconds)}`;
  return `${label}: ${count(s.done)}${of} ${s.unit}${percent}${rate}${eta}`;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `850ms`, `42s`, `3m05s`, `2h03m`. */
export function duration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
