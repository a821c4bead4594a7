// The report schedule (reports-templates/schedule.json) as pure functions of the clock:
// when each schedule is due, which occurrences were missed since the last one run, and
// the parameters of an occurrence. All in UTC: no daylight-saving surprises.

export type Cadence = 'daily' | 'monthly' | 'yearly';

export type Schedule = {
  readonly name: string;
  readonly report: string;
  readonly cadence: Cadence;
  /** `HH:MM` UTC. */
  readonly at: string;
  readonly day?: number;
  readonly month?: number;
  readonly params: Readonly<Record<string, string>>;
};

export type ScheduleFile = { readonly catchUpMax: number; readonly schedules: readonly Schedule[] };

export function parseScheduleFile(json: unknown): ScheduleFile {
  const file = json as { catch_up_max?: number; schedules?: Schedule[] };
  const schedules = file.schedules ?? [];
  for (const s of schedules) {
    if (!/^\d{2}:\d{2}$/.test(s.at)) throw new Error(`schedule ${s.name}: at must be HH:MM`);
    if (!['daily', 'monthly', 'yearly'].includes(s.cadence)) throw new Error(`schedule ${s.name}: cadence`);
    if (s.cadence !== 'daily' && !(Number.isInteger(s.day) && (s.day as number) >= 1 && (s.day as number) <= 28)) {
      throw new Error(`schedule ${s.name}: day must be 1–28 (every month has it)`);
    }
  }
  if (new Set(schedules.map((s) => s.name)).size !== schedules.length) throw new Error('schedule names repeat');
  return { catchUpMax: file.catch_up_max ?? 40, schedules };
}

/** The cron expression for node-cron (minute hour day month weekday), evaluated in UTC. */
export function cronExpression(s: Schedule): string {
  const [hour, minute] = s.at.split(':').map(Number) as [number, number];
  if (s.cadence === 'daily') return `${minute} ${hour} * * *`;
  if (s.cadence === 'monthly') return `${minute} ${hour} ${s.day} * *`;
  return `${minute} ${hour} ${s.day} ${s.month ?? 1} *`;
}

/** The most recent time the schedule was due at or before `now`. */
export function lastDue(s: Schedule, now: Date): Date {
  const [hour, minute] = s.at.split(':').map(Number) as [number, number];
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const candidate = (year: number, month: number, day: number) => new Date(Date.UTC(year, month, day, hour, minute));
  if (s.cadence === 'daily') {
    const today = candidate(y, m, now.getUTCDate());
    return today <= now ? today : candidate(y, m, now.getUTCDate() - 1);
  }
  if (s.cadence === 'monthly') {
    const thisMonth = candidate(y, m, s.day as number);
    return thisMonth <= now ? thisMonth : candidate(y, m - 1, s.day as number);
  }
  const thisYear = candidate(y, (s.month ?? 1) - 1, s.day as number);
  return thisYear <= now ? thisYear : candidate(y - 1, (s.month ?? 1) - 1, s.day as number);
}

function previousDue(s: Schedule, due: Date): Date {
  return lastDue(s, new Date(due.getTime() - 60_000));
}

/**
 * Occurrences due after `lastRun` (exclusive) up to `now`, oldest first, at most
 * `max` (the newest ones when more were missed). With no last run, only the latest.
 */
export function missedOccurrences(s: Schedule, lastRun: Date | null, now: Date, max: number): Date[] {
  const due: Date[] = [];
  let cursor = lastDue(s, now);
  while (due.length < max && (lastRun === null ? due.length === 0 : cursor > lastRun)) {
    due.push(cursor);
    cursor = previousDue(s, cursor);
  }
  return due.reverse();
}

/** The parameters of the occurrence due at `due`. */
export function occurrenceParams(s: Schedule, due: Date): Record<string, string> {
  const runDate = due.toISOString().slice(0, 10);
  const previous = new Date(Date.UTC(due.getUTCFullYear(), due.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(s.params)) {
    params[name] = value.replace('{run_date}', runDate).replace('{previous_month}', previous)
      .replace('{previous_year}', String(due.getUTCFullYear() - 1));
  }
  return params;
}
