// `ledger access …` as operators run it: bootstrap prints {user, token} once and refuses
// when an admin exists; grants act as a named admin (--as) and are refused for anyone
// without an admin grant in force; a privileged grant waits for a second admin, and with
// only one admin `approve --break-glass` approves it, recorded as such in the trail. The
// README's permission table is exactly what `ledger access roles` prints.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionTableMarkdown } from '../../src/access-control/permissions.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('ledger access', () => {
  let db: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ledger-access-'));
  });
  afterAll(async () => {
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const ledger = (...args: string[]) => spawnSync(process.execPath, ['bin/ledger.mjs', ...args, '--json'], {
    env: { ...process.env, DATABASE_URL: db.url, LEDGER_DATA_DIR: dataDir, KAFKA_BROKERS: '' }, encoding: 'utf8' });
  const ok = (...args: string[]) => {
    const result = ledger(...args);
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };
  const refused = (pattern: RegExp, ...args: string[]) => {
    const result = ledger(...args);
    expect(result.status, result.stdout).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(pattern);
  };

  it('bootstraps the first admin once, then grants through named admins', () => {
    const first = ok('access', 'bootstrap', '--name', 'Ops Admin', '--email', 'ops@example.com');
    expect(first).toMatchObject({ user: 'ops', token: expect.stringMatching(/^ldg_/) });
    refused(/an admin exists \(ops\)/, 'access', 'bootstrap');

    ok('access', 'users', '--add', '--as', 'ops', '--name', 'Bea Admin', '--email', 'bea@example.com', '--kind', 'person');
    ok('access', 'users', '--add', '--as', 'ops', '--name', 'Carl', '--email', 'carl@example.com', '--kind', 'person');
    refused(/--as carl: holds no admin grant in force/, 'access', 'grant', '--as', 'carl', '--user', 'bea',
      '--role', 'viewer', '--expires-at', '2099-01-01T00:00:00Z', '--reason', 'x');
    refused(/separation_of_duties|nobody grants a role to themselves/, 'access', 'grant', '--as', 'ops', '--user', 'ops',
      '--role', 'finance', '--expires-at', new Date(Date.now() + 86_400_000).toISOString(), '--reason', 'me');

    const expires = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const pending = ok('access', 'grant', '--as', 'ops', '--user', 'bea', '--role', 'admin', '--expires-at', expires,
      '--reason', 'second admin');
    expect(pending.status).toBe('pending');
    refused(/--break-glass needs --reason/, 'access', 'approve', pending.id, '--as', 'ops', '--break-glass');
    refused(/the admin who granted it cannot also approve it/, 'access', 'approve', pending.id, '--as', 'ops');
    expect(ok('access', 'approve', pending.id, '--as', 'ops', '--break-glass', '--reason', 'sole admin'))
      .toMatchObject({ status: 'active', approved_by: 'ops', break_glass: true });

    const cad = ok('access', 'grant', '--as', 'bea', '--user', 'carl', '--role', 'finance', '--currencies', 'CAD',
      '--expires-at', expires, '--reason', 'CAD close');
    expect(cad).toMatchObject({ status: 'active', scope: { currencies: ['CAD'] }, granted_by: 'bea' });
    expect(ok('access', 'token', '--as', 'bea', '--user', 'carl').token).toMatch(/^ldg_/);
    expect(ok('access', 'revoke', cad.id, '--as', 'ops', '--reason', 'moved teams')).toEqual({ id: cad.id, status: 'revoked' });

    const listed = ok('access', 'users');
    expect(listed.items.map((i: { id: string }) => i.id)).toEqual(['bea', 'carl', 'ops']);
  });

  it('records each act in the trail, break-glass named as such', async () => {
    const trail = await db.adminPool.query<{ actor: string; action: string; source: string }>(
      'SELECT actor, action, source FROM access.audit_trail ORDER BY seq');
    expect(trail.rows.map((r) => r.action)).toEqual(['access.bootstrap', 'identity.create', 'identity.create',
      'grant.refuse', 'grant.create', 'grant.refuse_approval', 'grant.approve_break_glass', 'grant.create',
      'token.issue', 'grant.revoke']);
    expect(trail.rows.every((r) => r.source.startsWith('cli:'))).toBe(true);
  });

  it('renders the access review from exactly the grants and acts of this test, signed, in four formats', async () => {
    const run = ok('access', 'review');
    expect(Object.keys(run.files).sort()).toEqual(['csv', 'json', 'manifest', 'pdf', 'xlsx']);
    const rendered = JSON.parse(await readFile(run.files.json, 'utf8')) as {
      report: string; figures: Array<{ key: string; dims: Record<string, string>; value: string }> };
    expect(rendered.report).toBe('access-review');
    const value = (key: string, dims: Record<string, string>) =>
      rendered.figures.find((f) => f.key === key && JSON.stringify(f.dims) === JSON.stringify(dims))?.value;
    expect(value('grants_in_force', { role: 'admin' })).toBe('2');
    expect(value('grants_in_force', { role: 'finance' })).toBe('0');
    expect(value('holders', {})).toBe('2');
    expect(Object.fromEntries(rendered.figures.filter((f) => f.key === 'acts').map((f) => [f.dims.action, f.value])))
      .toEqual({ 'grant.approve_break_glass': '1', 'grant.create': '2', 'grant.refuse': '1',
        'grant.refuse_approval': '1', 'grant.revoke': '1' });
    const verified = spawnSync(process.execPath, ['bin/ledger.mjs', 'report', 'verify', run.files.xlsx, '--manifest',
      run.files.manifest, '--json'], { env: { ...process.env, LEDGER_DATA_DIR: dataDir }, encoding: 'utf8' });
    expect(verified.status, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, run_id: run.run_id });
  });

  it('keeps the README\'s permission table equal to the code\'s', async () => {
    const readme = await readFile(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain(permissionTableMarkdown());
  });
});
