// The progress meter with a clock the test moves: the rate over its window, the ETA from
// the total, at most one line per interval, and a last line whatever the throttle.
import { describe, expect, it } from 'vitest';
import { duration, ProgressMeter, progressJson } from '../../src/observability/progress.ts';
import { terminalProgress } from '../../src/observability/progress-stderr.ts';

function meterAt(options: { intervalMs?: number; windowMs?: number } = {}) {
  const clock = { now: 1_000 };
  const meter = new ProgressMeter({ label: 'projecting', unit: 'messages', clock: () => clock.now, ...options });
  return { meter, clock };
}

describe('the progress meter', () => {
  it('gives the rate and the time left from the total', () => {
    const { meter, clock } = meterAt();
    clock.now += 2_000;
    meter.update(4_000, 10_000);
    const s = meter.snapshot();
    expect(s.rate_per_second).toBe(2_000);
    expect(s.eta_seconds).toBe(3);
    expect(s.total).toBe(10_000);
    expect(progressJson(s)).toEqual({ done: 4_000, total: 10_000, unit: 'messages', rate_per_second: 2_000,
      eta_seconds: 3 });
  });

  it('has no rate before time passes, and no ETA without a total or a rate', () => {
    const { meter, clock } = meterAt();
    expect(meter.snapshot()).toMatchObject({ done: 0, total: null, rate_per_second: null, eta_seconds: null });
    meter.update(0, 500);
    expect(meter.snapshot().eta_seconds).toBeNull();
    clock.now += 1_000;
    meter.update(100);
    expect(meter.snapshot()).toMatchObject({ total: 500, rate_per_second: 100, eta_seconds: 4 });
  });

  it('takes the rate over its window, so that a change of pace shows in the ETA', () => {
    const { meter, clock } = meterAt({ windowMs: 10_000 });
    // 20 s at 1,000/s, then 10 s at 100/s: the window holds only the slow part.
    for (let second = 1; second <= 20; second += 1) {
      clock.now += 1_000;
      meter.update(second * 1_000, 50_000);
    }
    expect(meter.snapshot().rate_per_second).toBeCloseTo(1_000, 5);
    for (let second = 1; second <= 10; second += 1) {
      clock.now += 1_000;
      meter.update(20_000 + second * 100, 50_000);
    }
    const slow = meter.snapshot();
    expect(slow.rate_per_second).toBeCloseTo(100, 5);
    expect(slow.eta_seconds).toBeCloseTo((50_000 - 21_000) / 100, 5);
  });

  it('takes a total below what is done as done, with nothing left', () => {
    const { meter, clock } = meterAt();
    clock.now += 1_000;
    meter.update(120, 100);
    expect(meter.snapshot()).toMatchObject({ total: 120, eta_seconds: 0 });
  });

  it('shows at most one line per interval, and the last line whatever the throttle', () => {
    const { meter, clock } = meterAt({ intervalMs: 1_000 });
    clock.now += 500;
    meter.update(500, 2_000);
    expect(meter.line()).toBe('projecting: 500 of 2,000 messages (25%), 1,000 messages/s, ETA 2s');
    clock.now += 400;
    meter.update(900, 2_000);
    expect(meter.line()).toBeNull();
    clock.now += 600;
    meter.update(1_500, 2_000);
    expect(meter.line()).toMatch(/^projecting: 1,500 of 2,000 messages \(75%\), 1,000 messages\/s, ETA 500ms$/);
    clock.now += 100;
    meter.update(2_000, 2_000);
    expect(meter.line()).toBeNull();
    expect(meter.finalLine()).toBe('projecting: 2,000 messages in 2s, 1,250 messages/s');
  });

  it('writes durations as a person reads them', () => {
    expect([0.25, 42, 185, 7_380].map(duration)).toEqual(['250ms', '42s', '3m05s', '2h03m']);
  });
});

describe('progress on stderr', () => {
  const stream = (isTTY: boolean) => {
    const written: string[] = [];
    return { written, isTTY, write: (chunk: string) => { written.push(chunk); return true; } };
  };

  it('rewrites one line in place on a terminal and ends it with a newline', () => {
    const tty = stream(true);
    const sink = terminalProgress('publishing', 'lines', { stream: tty });
    expect(sink).not.toBeNull();
    sink?.update(10, 100);
    sink?.finish();
    sink?.finish();
    expect(tty.written).toHaveLength(2);
    expect(tty.written[0]).toMatch(/^\rpublishing: 10 of 100 lines \(10%\)/);
    expect(tty.written[1]).toMatch(/^\rpublishing: 10 lines in .*\n$/);
  });

  it('cuts the line to the terminal\'s width, so that \\r can rewrite it', () => {
    const narrow = { ...stream(true), columns: 30 };
    terminalProgress('publishing', 'lines', { stream: narrow })?.update(1_000_000, 2_000_000);
    expect(narrow.written[0]).toBe('\rpublishing: 1,000,000 of 2,0…\x1b[K');
  });

  it('shows nothing when stderr is no terminal, or with --json', () => {
    expect(terminalProgress('publishing', 'lines', { stream: stream(false) })).toBeNull();
    expect(terminalProgress('publishing', 'lines', { stream: stream(true), json: true })).toBeNull();
  });
});
