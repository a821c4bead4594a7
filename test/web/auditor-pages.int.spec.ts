// The auditor pages as a browser gets them (app.inject with a session from the login
// form): scope exactly as the API (a CAD-scoped user gets a not-found page for a USD
// figure, entry and event, and no lineage read is recorded for them), each lineage and
// event read on a page recorded in the trail as the API records it, a lineage whose lines
// do not add up to the figure shown as a MISMATCH in plain words, an entry with its chain
// position and the checkpoint covering it, checkpoints only for a grant covering every
// currency and market, the last result `ledger verify` kept, and the trail filtered,
// read-only (no form that posts).
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebWorld, loginByForm, type CookieJar, type WebWorld } from '../support/web.ts';

describe('auditor pages', () => {
  let world: WebWorld;
  const jars: Record<string, CookieJar> = {};

  beforeAll(async () => {
    world = await createWebWorld();
    for (const who of ['aud', 'cadfin', 'admin2']) jars[who] = await loginByForm(world.app, world.tokens[who] as string);
  });
  afterAll(async () => world?.close());

  const page = (who: string, url: string) => world.app.inject({ method: 'GET', url,
    headers: { cookie: (jars[who] as CookieJar).header() } });
  const db = () => world.ledger.db.adminPool;
  const figureOf = async (runId: string, key: string, currency: string) => (await db().query<{ figure_id: string;
    value: string }>(`SELECT figure_id, value FROM ledger.report_figures WHERE run_id = $1 AND key = $2
      AND dims ->> 'currency' = $3 ORDER BY figure_id LIMIT 1`, [runId, key, currency])).rows[0] as { figure_id: string; value: string };
  const trailCount = async (actor: string, action: string) => Number((await db().query<{ n: string }>(
    'SELECT count(*) AS n FROM access.audit_trail WHERE actor = $1 AND action = $2', [actor, action])).rows[0]?.n);

  it('shows a USD figure, entry and event to the auditor and a not-found page to a CAD-scoped user', async () => {
    const usd = await figureOf(world.usdRunId, 'gross_booking_value', 'USD');
    const line = (await db().query<{ entry_id: string; event_id: string }>(`SELECT entry_id, event_id
      FROM ledger.journal_entries WHERE subject_currency = 'USD' LIMIT 1`)).rows[0] as { entry_id: string; event_id: string };
    for (const url of [`/figures/${usd.figure_id}`, `/entries/${line.entry_id}`, `/events/${line.event_id}`]) {
      const seen = await page('aud', url);
      expect(seen.statusCode, url).toBe(200);
      const hidden = await page('cadfin', url);
      expect(hidden.statusCode, url).toBe(404);
      expect(hidden.headers['content-type']).toMatch(/^text\/html/);
      expect(hidden.body).toContain('<h1>Not found</h1>');
      expect(hidden.body).not.toContain(usd.value);
    }
    expect(await trailCount('cadfin', 'lineage.read')).toBe(0);
    expect(await trailCount('cadfin', 'event.read')).toBe(0);
    expect(await trailCount('aud', 'lineage.read')).toBe(1);
    expect(await trailCount('aud', 'event.read')).toBe(1);
    expect(await trailCount('aud', 'entry.read')).toBe(1);
  });

  it('lets the CAD-scoped user read a CAD figure, whose sum matches its value', async () => {
    const cad = await figureOf(world.cadRunId, 'gross_booking_value', 'CAD');
    const seen = await page('cadfin', `/figures/${cad.figure_id}`);
    expect(seen.statusCode).toBe(200);
    expect(seen.body).toContain('data-sum-check="equal"');
    expect(seen.body).toMatch(/class="amount">[0-9,]+\.[0-9]{2} <abbr class="ccy">CAD<\/abbr>/);
  });

  it('says MISMATCH when the lines do not add up to the figure', async () => {
    const figure = await figureOf(world.usdRunId, 'captured_total', 'USD');
    // The kept sum stands in for lines that no longer add up (the table is append-only: a first write).
    await db().query('INSERT INTO ledger.figure_lineage_sums (figure_id, sum_value) VALUES ($1, $2)', [figure.figure_id, '1.00']);
    const seen = await page('aud', `/figures/${figure.figure_id}`);
    expect(seen.body).toContain('data-sum-check="mismatch"');
    expect(seen.body).toContain('MISMATCH: the lines sum to');
    expect(seen.body).not.toContain('= value ✓');
  });

  it('shows an entry\'s hashes, chain position and the checkpoint that covers it', async () => {
    const entry = (await db().query<{ entry_id: string; chain_seq: string; hash: string; prev: string }>(`SELECT entry_id,
      chain_seq, encode(entry_hash, 'hex') AS hash, encode(prev_hash, 'hex') AS prev FROM ledger.journal_entries
      WHERE subject_currency = 'CAD' ORDER BY chain_seq DESC LIMIT 1`)).rows[0] as { entry_id: string; chain_seq: string;
      hash: string; prev: string };
    const seen = await page('aud', `/entries/${entry.entry_id}`);
    expect(seen.body).toContain(entry.hash);
    expect(seen.body).toContain(entry.prev);
    expect(seen.body).toMatch(new RegExp(`entry ${entry.chain_seq} of the hash chain`));
    expect(seen.body).toMatch(/href="\/verification#checkpoint-[0-9]+"/);
  });

  it('shows checkpoints to a grant covering everything, and tells a narrower one why not', async () => {
    const checkpoint = (await db().query<{ checkpoint_id: string; root: string }>(`SELECT checkpoint_id,
      encode(merkle_root, 'hex') AS root FROM ledger.checkpoints ORDER BY checkpoint_id DESC LIMIT 1`)).rows[0];
    const seen = await page('aud', '/verification');
    expect(seen.body).toContain(checkpoint?.root);
    expect(seen.body).toContain('openssl pkeyutl -verify');
    const file = await page('aud', `/verification/checkpoints/${checkpoint?.checkpoint_id}`);
    expect(JSON.parse(file.body)).toMatchObject({ format: 'ledger-checkpoint/1', body: { merkle_root: checkpoint?.root } });
    const narrow = await page('cadfin', '/verification');
    expect(narrow.statusCode).toBe(200);
    expect(narrow.body).not.toContain(checkpoint?.root);
    expect(narrow.body).toMatch(/your grants cover only part of\s+the ledger/);
    expect((await page('cadfin', `/verification/checkpoints/${checkpoint?.checkpoint_id}`)).statusCode).toBe(404);
  });

  it('shows the last result `ledger verify` kept, each check with what it found', async () => {
    expect((await page('aud', '/verification')).body).toContain('No <code>ledger verify</code> has been run');
    const verify = spawnSync(process.execPath, ['bin/ledger.mjs', 'verify'], { encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: world.ledger.db.url, LEDGER_DATA_DIR: world.ledger.dataDir, KAFKA_BROKERS: '' } });
    expect([0, 1], verify.stderr).toContain(verify.status);
    const seen = (await page('aud', '/verification')).body;
    expect(seen).toContain(`data-verify-result="${verify.status === 0 ? 'passed' : 'failed'}"`);
    const printedChecks = verify.stdout.split('\n').filter((l) => /^(ok  |FAIL) /.test(l));
    expect(printedChecks.length).toBeGreaterThan(3);
    for (const printed of printedChecks) {
      expect(seen).toContain(`<code>${/^(?:ok {2}|FAIL) ([a-z_]+):/.exec(printed)?.[1]}</code>`);
    }
    expect(verify.stdout).not.toContain('not kept');
  });

  it('filters the trail by actor, action and UTC time, read-only', async () => {
    const all = await page('admin2', '/trail?actor=aud&action=lineage.read');
    expect(all.statusCode).toBe(200);
    expect(all.body.match(/<tr><td>[0-9]+<\/td>/g)?.length).toBe(await trailCount('aud', 'lineage.read'));
    expect(all.body).not.toMatch(/method="post"[^>]*action="\/trail/);
    const future = await page('admin2', '/trail?actor=aud&from=2999-01-01T00:00');
    expect(future.body).toContain('No trail record matches these filters');
    const bad = await page('admin2', '/trail?from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('from must be an RFC 3339 time');
    expect((await page('cadfin', '/trail')).statusCode).toBe(403);
  });
});
