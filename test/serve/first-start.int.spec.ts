// `npm start` on the embedded defaults, as a newcomer runs it (here with --no-demo to keep
// it short): it prints the API's URL and, since no admin exists, makes the first admin and
// shows its token once; `curl` with that token, over a real socket, lists the identities.
// A second start shows no token again. SIGTERM stops it cleanly.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedEnv, removeCluster } from '../support/embedded-cluster.ts';

type Started = { stderr: () => string; url: string; token: string | null; stop: () => Promise<number | null> };

/** Starts serve and reads its stderr until it says it follows the log (bounded by the test's timeout). */
function startServe(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, ['bin/ledger.mjs', 'serve', '--no-demo'], {
    env: embeddedEnv({ LEDGER_DATA_DIR: dataDir, PORT: '0', LEDGER_PROJECTOR_THREADS: '0', LEDGER_LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!stderr.includes('ledger: following the log')) return;
      const url = /ledger: API at (http:\/\/[^\s]+)\/api /.exec(stderr)?.[1];
      if (url === undefined) return reject(new Error(`no API URL in:\n${stderr}`));
      resolve({ stderr: () => stderr, url, token: /^ledger: {3}(ldg_\S+)$/m.exec(stderr)?.[1] ?? null,
        stop: async () => { child.kill('SIGTERM'); return exited; } });
    });
    void exited.then((code) => reject(new Error(`serve exited (${code}) before following the log:\n${stderr}`)));
  });
}

describe('npm start on the embedded defaults', () => {
  let dataDir: string;
  afterAll(async () => {
    await removeCluster(dataDir);
    await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('prints the URL and the first admin\'s token once, and the token works over a real socket', async () => {
    dataDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'ledger-first-start-')), 'data');
    const first = await startServe(dataDir);
    try {
      expect(first.stderr()).toMatch(/ledger: first admin "administrator" made; its API token, shown this once/);
      expect(first.token).toMatch(/^ldg_[A-Za-z0-9_-]{43}$/);
      const users = await fetch(`${first.url}/api/access/users`, { headers: { authorization: `Bearer ${first.token}` } });
      expect(users.status).toBe(200);
      expect(await users.json()).toMatchObject({ items: [{ id: 'administrator', kind: 'person' }], next_cursor: null });
      const anonymous = await fetch(`${first.url}/api/access/users`);
      expect(anonymous.status).toBe(401);
      const health = await fetch(`${first.url}/api/health`);
      expect(await health.json()).toMatchObject({ status: 'ok', database: 'ok' });
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const second = await startServe(dataDir);
    try {
      expect(second.token).toBeNull();
      expect(second.stderr()).toMatch(/log in with an API token: `npx ledger access token --as ADMIN --user YOU`/);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 600_000);
});
