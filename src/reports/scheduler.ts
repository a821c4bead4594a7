// Runs the report schedule: node-cron fires each schedule at its time in UTC, and every
// occurrence missed while no service was leading (down, or between two leaders) is caught
// up, oldest first, never silently skipped. Each occurrence is recorded with its run
// (scheduled_runs, keyed by schedule and due time), so a restart or a second service
// does not run it twice. Runs are requested by the identity `scheduler`. Which process
// runs the schedule (the leader) is decided in src/app.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { schedule as cronSchedule, type ScheduledTask } from 'node-cron';
import type { Pool } from '../db/database.ts';
import { UserError } from '../errors.ts';
import { createRun, type ReportContext } from './runs.ts';
import {
  cronExpression, missedOccurrences, occurrenceParams, parseScheduleFile, type Schedule, type ScheduleFile,
} from './schedule.ts';

export const schedulerIdentity = 'scheduler';

const scheduleFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'reports-templates',
  'schedule.json');

/** The schedule file (LEDGER_SCHEDULE_FILE, else the package's); one that cannot be used is the user's to fix. */
export async function loadSchedule(file: string | null = null): Promise<ScheduleFile> {
  const where = file ?? scheduleFile;
  try {
    return parseScheduleFile(JSON.parse(await readFile(where, 'utf8')));
  } catch (error) {
    throw new UserError('bad_config', `the report schedule ${where} cannot be used: ${(error as Error).message}`);
  }
}

export type SchedulerLog = (line: string) => void;

/**
 * Runs every missed occurrence of every schedule up to `now`; returns the runs made. A
 * schedule stops at its first failed occurrence: the later ones wait, so that the failed
 * one (older than them) is tried again at the next catch-up rather than passed over.
 * `isStopped` is asked before each occurrence: a stopped service starts no new run.
 */
export async function catchUp(
  ctx: ReportContext, file: ScheduleFile, now: Date, log: SchedulerLog, isStopped: () => boolean = () => false,
): Promise<Array<{ schedule: string; due_at: string; run_id: string }>> {
  const made: Array<{ schedule: string; due_at: string; run_id: string }> = [];
  for (const s of file.schedules) {
    const last = await lastRecorded(ctx.pool, s.name);
    for (const due of missedOccurrences(s, last, now, file.catchUpMax)) {
      if (isStopped()) return made;
      const outcome = await runOccurrence(ctx, s, due, log);
      if (outcome === 'failed') break;
      if (outcome !== 'already-run') made.push({ schedule: s.name, due_at: due.toISOString(), run_id: outcome.runId });
    }
  }
  return made;
}

async function lastRecorded(pool: Pool, name: string): Promise<Date | null> {
  const result = await pool.query<{ due_at: Date | null }>(
    'SELECT max(due_at) AS due_at FROM ledger.scheduled_runs WHERE schedule_name = $1', [name]);
  const due = result.rows[0]?.due_at ?? null;
  return due === null ? null : new Date(due);
}

/**
 * One occurrence, under an advisory lock on (schedule, due) so that two services running
 * the same schedule do not both run it (the leader lock makes that rare: a leader that
 * lost its lock may still finish the run in hand). A failure is logged and left
 * unrecorded, so the next catch-up tries it again.
 */
async function runOccurrence(
  ctx: ReportContext, s: Schedule, due: Date, log: SchedulerLog,
): Promise<{ runId: string } | 'already-run' | 'failed'> {
  const client = await ctx.pool.connect();
  const lockKey = `${s.name}@${due.toISOString()}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    const done = await client.query('SELECT run_id FROM ledger.scheduled_runs WHERE schedule_name = $1 AND due_at = $2',
      [s.name, due.toISOString()]);
    if (done.rowCount !== 0) return 'already-run';
    const run = await createRun(ctx, { report: s.report, params: occurrenceParams(s, due),
      requestedBy: schedulerIdentity, now: new Date() });
    await client.query('INSERT INTO ledger.scheduled_runs (schedule_name, due_at, run_id) VALUES ($1, $2, $3)',
      [s.name, due.toISOString(), run.run_id]);
    log(`scheduler: ${s.name} due ${due.toISOString()} → run ${run.run_id}`);
    return { runId: run.run_id };
  } catch (error) {
    log(`scheduler: ${s.name} due ${due.toISOString()} failed, tried again at the next catch-up ` +
      `(next occurrence, start or takeover): ${(error as Error).message}`);
    return 'failed';
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    client.release();
  }
}

/**
 * Starts the cron tasks: each firing catches its schedule up (so an occurrence missed by
 * a moment, or a failed one, is run then). Returns a function that stops them at once,
 * starts no new run, and resolves when the run in hand is done.
 */
export function startScheduler(ctx: ReportContext, file: ScheduleFile, log: SchedulerLog): () => Promise<void> {
  let stopped = false;
  const inFlight = new Set<Promise<unknown>>();
  const tasks: ScheduledTask[] = file.schedules.map((s) => cronSchedule(cronExpression(s), async () => {
    const job = catchUp(ctx, { ...file, schedules: [s] }, new Date(), log, () => stopped)
      .catch((error: unknown) => log(`scheduler: ${s.name}: catch-up failed: ${(error as Error).message}`));
    inFlight.add(job);
    try {
      await job;
    } finally {
      inFlight.delete(job);
    }
  }, { timezone: 'UTC', noOverlap: true, name: `report:${s.name}` }));
  return async () => {
    stopped = true;
    for (const task of tasks) await task.stop();
    await Promise.allSettled([...inFlight]);
  };
}
