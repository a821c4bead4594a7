// Two `ledger serve` on one database and one broker: the consumer group splits the
// partitions between them, one of them leads (a PostgreSQL advisory lock) and runs the
// report schedule and the nightly reconciliation, and each occurrence runs once. Real
// child processes of bin/ledger.mjs on the suite's broker and a fresh database, sharing
// one signing key (LEDGER_SIGNING_KEY) as two machines would. The second starts while the
// first already leads (it must not wait on the leader's lock). The schedule (a daily report)
// and the nightly job are set to the next whole minute, so that cron fires while both
// run; then the leader is SIGKILLed and the other must take over (catching up, running
// nothing twice), lose its lead when its lock's connection is cut, win it back, and stop
// cleanly on SIGTERM, releasing the lock. Every run is counted per occurrence in the database.
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaderLockKey } from '../../src/app/leader.ts';
import { createKafkaLedger, ownedPartitions, waitUntil, type KafkaLedger, type LedgerChild } from '../support/kafka.ts';
import { following, startServe, waitForLine } from './support.ts';

const partitions = 4;
const dayMs = 86_400_000;
const leads = /leader: this process \(pid \d+\) is the leader/;
const leadCount = (child: LedgerChild) => child.stderr().match(new RegExp(leads, 'g'))?.length ?? 0;
const dateBefore = (instant: Date) => new Date(instant.getTime() - dayMs).toISOString().slice(0, 10);

/** The next whole minute at least `marginMs` away: when cron will fire in the test. */
function nextMinute(now: Date, marginMs: number): Date {
  const minuteMs = 60_000;
  return new Date(Math.ceil((now.getTime() + marginMs) / minuteMs) * minuteMs);
}

describe('two `ledger serve` on one database and one broker', () => {
  let ledger: KafkaLedger;
  const children: LedgerChild[] = [];
  beforeAll(async () => {
    ledger = await createKafkaLedger({ partitions, name: 'scale-out' });
    await ledger.log.producer.ensureTopic(ledger.topic, partitions);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await ledger?.close();
  });

  it('split the partitions, run each schedule once, and hand over when the leader dies', async () => {
    const fireAt = nextMinute(new Date(), 40_000);
    const at = fireAt.toISOString().slice(11, 16);
    const scheduleFile = path.join(ledger.dataDir, 'schedule.json');
    await writeFile(scheduleFile, JSON.stringify({ catch_up_max: 5, schedules: [
      { name: 'trial-balance-test', report: 'trial-balance', cadence: 'daily', at, params: { as_of: '{run_date}' } },
    ] }));
    const inbox = path.join(ledger.dataDir, 'inbox');
    await mkdir(inbox, { recursive: true });
    const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const env = { LEDGER_SCHEDULE_FILE: scheduleFile, LEDGER_RECON_TIME: at, LEDGER_RECON_INBOX: inbox,
      LEDGER_LEADER_POLL_MS: '500', LEDGER_SIGNING_KEY: key };
    // The first one starts and leads; a second one joins it (a machine added to a running
    // service): both follow, the group gives each a share of the partitions, one leads.
    // Generous deadlines: cold starts (tsx, migrations, the group's join) on a busy machine.
    const a = startServe(ledger, [], env);
    children.push(a);
    await waitForLine(a, leads, 'the first serve leading', 150_000);
    const b = startServe(ledger, [], env);
    children.push(b);
    await waitForLine(b, following, 'the second serve following', 150_000);
    await waitForLine(a, following, 'the first serve following', 150_000);
    await waitUntil('the partitions split between the two', () => {
      const [ofA, ofB] = [ownedPartitions(a.stderr()), ownedPartitions(b.stderr())];
      return ofA !== null && ofB !== null && ofA.length > 0 && ofB.length > 0 &&
        [...ofA, ...ofB].sort().join() === '0,1,2,3';
    }, 90_000, 100);
    expect([leadCount(a), leadCount(b)]).toEqual([1, 0]);
    const [leader, standby] = [a, b];

    // cron fires at `fireAt` with both running: the leader's runs are recorded once.
    const db = ledger.observer;
    const reportRuns = async () => (await db.query<{ due_at: Date; runs: number }>(
      `SELECT s.due_at, count(*)::int AS runs FROM ledger.scheduled_runs s
         JOIN ledger.report_runs r USING (run_id) GROUP BY s.due_at ORDER BY s.due_at`)).rows
      .map((r) => [r.due_at.toISOString(), r.runs]);
    const nightlyRuns = async () => (await db.query<{ run_date: string; runs: number }>(
      `SELECT run_date::text, count(*)::int AS runs FROM ledger.reconciliation_runs
        WHERE requested_by = 'reconciliation-job' GROUP BY run_date ORDER BY run_date`)).rows
      .map((r) => [r.run_date, r.runs]);
    // At the fired minute (or at the leader's start, on a machine slow enough to start after
    // it): the report due then and the night before it, each run once.
    const [dueReport, dueNight] = [fireAt.toISOString(), dateBefore(fireAt)];
    await waitUntil('the runs due at the fired minute', async () =>
      (await reportRuns()).some(([due]) => due === dueReport) && (await nightlyRuns()).some(([date]) => date === dueNight),
    150_000, 250);
    await waitForLine(leader, new RegExp(`reconciliation: run \\S+ for ${dueNight}: `), 'the nightly run logged');
    const [expectedReports, expectedNights] = [await reportRuns(), await nightlyRuns()];
    expect(expectedReports.map(([, runs]) => runs)).toEqual(expectedReports.map(() => 1));
    expect(expectedNights.map(([, runs]) => runs)).toEqual(expectedNights.map(() => 1));
    // Both processes had their chance at the minute: the standby ran nothing.
    expect(standby.stderr()).not.toMatch(/reconciliation: run |scheduler: trial-balance-test due/);

    // The leader dies; the standby takes over within seconds, catches up, and doubles nothing.
    const killedAt = Date.now();
    leader.kill('SIGKILL');
    await leader.exited;
    await waitUntil('the standby leading', () => leadCount(standby) === 1, 60_000, 50);
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    await waitForLine(standby, /nightly reconciliation caught up 0 night\(s\)/, 'the new leader caught up');
    expect(standby.stderr()).toMatch(/scheduler caught up 0 report runs/);
    expect(await reportRuns()).toEqual(expectedReports);
    expect(await nightlyRuns()).toEqual(expectedNights);

    // Its lock's connection cut, it stops leading at once, then wins the lock again.
    const holder = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1 AND objsubid = 1
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, [leaderLockKey]);
    expect(holder.rows).toHaveLength(1);
    await db.query('SELECT pg_terminate_backend($1)', [holder.rows[0]?.pid]);
    await waitForLine(standby, /leader: lost the leader lock .*; the schedulers are stopped/, 'leadership lost');
    await waitUntil('leading again', () => leadCount(standby) === 2, 30_000, 50);

    // SIGTERM: the schedulers stop, the lock is released, the projector stops, exit 0.
    standby.kill('SIGTERM');
    const run = await standby.exited;
    expect(run.stderr).toMatch(/leader: stopped; the leader lock is released\n(.*\n)*ledger: stopped\n/);
    expect(run.code).toBe(0);
    const locks = await db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1`, [leaderLockKey]);
    expect(locks.rowCount).toBe(0);
    expect(await reportRuns()).toEqual(expectedReports);
    expect(await nightlyRuns()).toEqual(expectedNights);
  }, 420_000);
});
