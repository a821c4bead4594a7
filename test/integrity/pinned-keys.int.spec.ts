// Pinned keys (CLI.md, LEDGER_TRUSTED_KEYS): `ledger verify` trusts the service's own key,
// the data dir's retired keys and LEDGER_TRUSTED_KEYS, and nothing ledger.signing_keys
// says. A checkpoint or report manifest signed by any other key fails verify, named by its
// checkpoint or run id: a key the service role inserted into the database, a key the data
// dir made silently after losing its own. A new key for a ledger that has signed is an
// explicit, recorded `ledger keys rotate`; a key file other accounts may read is refused.
// Method: the `ledger` command itself (spawned, as an operator runs it) against a test
// ledger of its own per scenario, tampering done as the service role or with a second key.
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { writeCheckpoint } from '../../src/integrity/checkpoints.ts';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { signingKeyForLedger } from '../../src/signing/ledger-key.ts';
import { loadTrustedKeys } from '../../src/signing/trust.ts';
import { createRun } from '../../src/reports/runs.ts';
import { keyIdOf, loadSigningKey, type SigningKey } from '../../src/signing/keys.ts';
import { captureLine, createTestLedger, type TestLedger } from '../support/ledger.ts';

type Verified = { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };

let open: TestLedger[] = [];
afterEach(async () => {
  await Promise.all(open.map((l) => l.close()));
  open = [];
});

/**
 * A ledger with 12 posted captures and one checkpoint by the data dir's key, as `ledger
 * project` leaves it (projected here, in this process: each spawned command costs seconds).
 */
async function projectedLedger() {
  const ledger = await createTestLedger({ partitions: 2 });
  open.push(ledger);
  const env: NodeJS.ProcessEnv = {
    ...process.env, DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir, KAFKA_BROKERS: '',
    LEDGER_PROJECTOR_THREADS: '0', LEDGER_TRUSTED_KEYS: '', LEDGER_SIGNING_KEY: '',
  };
  const ledgerCommand = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, ['bin/ledger.mjs', ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  const verify = (extraEnv: NodeJS.ProcessEnv = {}) => {
    const result = ledgerCommand(['verify', '--json'], extraEnv);
    expect(result.status === 0 || result.status === 1, result.stderr).toBe(true);
    return JSON.parse(result.stdout) as Verified;
  };
  await ledger.publish(Array.from({ length: 12 }, (_, n) => captureLine(n)));
  await ledger.project();
  const key = await loadSigningKey(ledger.dataDir, null);
  expect(await writeCheckpoint(ledger.db.pool, key, ledger.dataDir, new Date())).not.toBeNull();
  return { ledger, key, ledgerCommand, verify };
}

function failed(report: Verified): Record<string, string> {
  return Object.fromEntries(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
}

function signingKeyOf(privateKey: KeyObject): SigningKey {
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { keyId: keyIdOf(publicKeyPem), privateKey, publicKeyPem };
}

function otherKey(): SigningKey {
  return signingKeyOf(generateKeyPairSync('ed25519').privateKey);
}

const signingKeyFile = (dataDir: string) => path.join(dataDir, 'keys', 'signing-ed25519.pem');

/** One line on stderr, exit 2, no stack: a user's mistake (CLI.md). */
function expectOneLineError(result: ReturnType<typeof spawnSync>, pattern: RegExp) {
  const stderr = String(result.stderr);
  expect(result.status, stderr).toBe(2);
  expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
  expect(stderr.trim()).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

async function latestCheckpointId(ledger: TestLedger): Promise<string> {
  const rows = await ledger.db.pool.query<{ id: string }>('SELECT max(checkpoint_id) AS id FROM ledger.checkpoints');
  return rows.rows[0]!.id;
}

describe('ledger verify trusts pinned keys only', () => {
  it('names a checkpoint signed by a key the service role inserted into the database', async () => {
    const { ledger, verify } = await projectedLedger();
    // The service role may INSERT into signing_keys and checkpoints: a key of its own, and a checkpoint it signed.
    await ledger.publish([captureLine(100)]);
    await ledger.project();
    const intruder = otherKey();
    await writeCheckpoint(ledger.db.pool, intruder, path.join(ledger.dataDir, 'elsewhere'), new Date());
    const id = await latestCheckpointId(ledger);
    const report = verify();
    expect(report.ok).toBe(false);
    expect(failed(report).checkpoints).toBe(`checkpoint ${id}: signed by key ${intruder.keyId}, which is not a ` +
      'trusted key (the service\'s own or LEDGER_TRUSTED_KEYS)');
  });

  it('names a checkpoint signed by an untrusted key, and accepts it once LEDGER_TRUSTED_KEYS pins that key', async () => {
    const { ledger, ledgerCommand, verify } = await projectedLedger();
    const sibling = otherKey();
    // A key this ledger never signed with is refused for signing: LEDGER_SIGNING_KEY set to another deployment's.
    const pem = sibling.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expectOneLineError(ledgerCommand(['checkpoint'], { LEDGER_SIGNING_KEY: pem }),
      new RegExp(`signing key ${sibling.keyId} \\(LEDGER_SIGNING_KEY\\) has never signed for this ledger.*` +
        'ledger keys rotate'));
    // Signed anyway (an older version, or someone with the database and that key).
    await ledger.publish([captureLine(101)]);
    await ledger.project();
    await writeCheckpoint(ledger.db.pool, sibling, ledger.dataDir, new Date());
    const id = await latestCheckpointId(ledger);
    expect(failed(verify())).toEqual({ checkpoints: `checkpoint ${id}: signed by key ${sibling.keyId}, which is not ` +
      'a trusted key (the service\'s own or LEDGER_TRUSTED_KEYS)' });
    const pinned = path.join(ledger.dataDir, 'sibling.pub.pem');
    await writeFile(pinned, sibling.publicKeyPem);
    expect(failed(verify({ LEDGER_TRUSTED_KEYS: pinned }))).toEqual({});
  }, 180_000);

  it('refuses an unreadable or non-Ed25519 LEDGER_TRUSTED_KEYS file in one line naming it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ledger-keys-'));
    try {
      // Refused before any database is opened.
      const ledgerCommand = (extraEnv: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['bin/ledger.mjs', 'verify'],
        { env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LEDGER_DATA_DIR: dir,
          ...extraEnv }, encoding: 'utf8' });
      expectOneLineError(ledgerCommand({ LEDGER_TRUSTED_KEYS: '/nowhere/key.pem' }),
        /LEDGER_TRUSTED_KEYS: cannot read \/nowhere\/key\.pem/);
      const rsa = path.join(dir, 'rsa.pub.pem');
      await writeFile(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
        .export({ type: 'spki', format: 'pem' }).toString());
      expectOneLineError(ledgerCommand({ LEDGER_TRUSTED_KEYS: rsa }),
        new RegExp(`${rsa.replace(/[.]/g, '\\.')} is a rsa key; Ed25519 is required`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names a report run whose manifest an untrusted key signed', async () => {
    const { ledger, ledgerCommand, verify } = await projectedLedger();
    const made = ledgerCommand(['report', 'run', 'trial-balance', '--as-of', '2026-11-01T00:00:00Z', '--format',
      'json', '--json']);
    expect(made.status, made.stderr).toBe(0);
    const forged = await createRun({ pool: ledger.db.pool, key: otherKey(), dataDir: ledger.dataDir,
      lineageBaseUrl: 'http://localhost:8080/api/figures' },
    { report: 'trial-balance', params: { as_of: '2026-11-01T00:00:00Z' }, requestedBy: 'someone', now: new Date() });
    const report = failed(verify());
    expect(Object.keys(report)).toEqual(['report_manifests']);
    expect(report.report_manifests).toMatch(new RegExp(`^report run ${forged.run_id}: signed by key [0-9a-f]{16}, ` +
      'which is not a trusted key'));
    expect(report.report_manifests).not.toContain(JSON.parse(made.stdout).run_id); // the service's own run passes
  });
});

describe('checkpoints signed before the key id was the DER\'s', () => {
  it('still verify, and their key still signs: the same public key under its earlier id', async () => {
    const { ledger, key } = await projectedLedger();
    // What an earlier version wrote: the id of the PEM text, for the same key.
    const legacyId = createHash('sha256').update(key.publicKeyPem.trim()).digest('hex').slice(0, 16);
    await ledger.publish([captureLine(105)]);
    await ledger.project();
    await writeCheckpoint(ledger.db.pool, { ...key, keyId: legacyId }, ledger.dataDir, new Date());
    // Only the old-id checkpoint stays, as in a ledger that has signed nothing since.
    await ledger.db.adminPool.query(`ALTER TABLE ledger.checkpoints DISABLE TRIGGER USER;
      DELETE FROM ledger.checkpoints WHERE key_id <> '${legacyId}';
      ALTER TABLE ledger.checkpoints ENABLE TRIGGER USER;
      ALTER TABLE ledger.checkpoints ENABLE ALWAYS TRIGGER append_only_rows;
      ALTER TABLE ledger.checkpoints ENABLE ALWAYS TRIGGER append_only_truncate`);
    const config = loadConfig({ LEDGER_DATA_DIR: ledger.dataDir, DATABASE_URL: ledger.db.url });
    const trusted = await loadTrustedKeys(config, key);
    const report = await verifyLedger(ledger.db.pool, { trusted });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect((await signingKeyForLedger(ledger.db.pool, config)).keyId).toBe(key.keyId);
  });
});

describe('a new signing key is an explicit, recorded act', () => {
  it('refuses to sign when the data dir lost its key, until `ledger keys rotate`; verify does not make a key', async () => {
    const { ledger, ledgerCommand, verify } = await projectedLedger();
    const exported = path.join(ledger.dataDir, 'old.pub.pem');
    expect(ledgerCommand(['keys', 'export', '--out', exported]).status).toBe(0);
    await rm(signingKeyFile(ledger.dataDir));
    await ledger.publish([captureLine(102)]);
    const lost = /no signing key in .*signing-ed25519\.pem, but this ledger holds signatures by key [0-9a-f]{16}: restore that key file \(mode 0600\), or run `ledger keys rotate`/;
    expectOneLineError(ledgerCommand(['project']), lost);
    expectOneLineError(ledgerCommand(['checkpoint']), lost);
    expectOneLineError(ledgerCommand(['report', 'run', 'trial-balance', '--as-of', '2026-11-01T00:00:00Z']), lost);
    // Verify trusts no key now: what the lost key signed fails, and verify made no key of its own.
    expect(failed(verify()).checkpoints).toMatch(/^checkpoint 1: signed by key [0-9a-f]{16}, which is not a trusted key/);
    expect(existsSync(signingKeyFile(ledger.dataDir))).toBe(false);

    const rotated = ledgerCommand(['keys', 'rotate', '--json']);
    expect(rotated.status, rotated.stderr).toBe(0);
    const rotation = JSON.parse(rotated.stdout);
    expect(rotation).toMatchObject({ previous_key: 'replaced', previous_key_id: null, retired_file: null });
    const recorded = await ledger.db.pool.query('SELECT key_id, previous_key, signed_before FROM ledger.key_rotations');
    expect(recorded.rows).toEqual([{ key_id: rotation.key_id, previous_key: 'replaced',
      signed_before: rotation.signed_before }]);
    expect((await stat(signingKeyFile(ledger.dataDir))).mode & 0o777).toBe(0o600);
    const projected = ledgerCommand(['project', '--json']);
    expect(projected.status, projected.stderr).toBe(0);
    expect(Object.keys(failed(verify()))).toEqual(['checkpoints']); // checkpoint 1, by the lost key
    expect(failed(verify({ LEDGER_TRUSTED_KEYS: exported }))).toEqual({});
  }, 240_000);

  it('retires the previous key on rotation: what it signed stays trusted, the new key signs from then on', async () => {
    const { ledger, ledgerCommand, verify } = await projectedLedger();
    const before = await readFile(signingKeyFile(ledger.dataDir), 'utf8');
    const rotated = ledgerCommand(['keys', 'rotate', '--json']);
    expect(rotated.status, rotated.stderr).toBe(0);
    const rotation = JSON.parse(rotated.stdout);
    expect(rotation.previous_key).toBe('retired');
    expect(await readFile(rotation.retired_file, 'utf8')).toBe(signingKeyOf(createPrivateKey(before)).publicKeyPem);
    expect(await readFile(signingKeyFile(ledger.dataDir), 'utf8')).not.toBe(before);
    await ledger.publish([captureLine(103)]);
    expect(ledgerCommand(['project']).status).toBe(0);
    const signers = await ledger.db.pool.query<{ key_id: string }>(
      'SELECT key_id FROM ledger.checkpoints ORDER BY checkpoint_id');
    expect(signers.rows.map((r) => r.key_id)).toEqual([rotation.previous_key_id, rotation.key_id]);
    expect(failed(verify())).toEqual({});
  }, 180_000);

  it('refuses a signing key file other accounts may read, saying chmod 600', async () => {
    const { ledger, ledgerCommand } = await projectedLedger();
    const file = signingKeyFile(ledger.dataDir);
    await chmod(file, 0o644);
    await ledger.publish([captureLine(104)]);
    expectOneLineError(ledgerCommand(['project']), new RegExp(`readable by other accounts \\(mode 0644\\); ` +
      `run: chmod 600 ${file.replace(/[.]/g, '\\.')}$`));
    await chmod(file, 0o640);
    expectOneLineError(ledgerCommand(['checkpoint']), /chmod 600/);
  });
});

describe('ledger report verify says whether it proved origin', () => {
  it('proves integrity only without a trusted key, origin with LEDGER_TRUSTED_KEYS or --public-key', async () => {
    const { ledger, key, ledgerCommand } = await projectedLedger();
    const { run_id: runId, files } = await createRun({ pool: ledger.db.pool, key, dataDir: ledger.dataDir,
      lineageBaseUrl: 'http://localhost:8080/api/figures' },
    { report: 'trial-balance', params: { as_of: '2026-11-01T00:00:00Z' }, requestedBy: 'test', now: new Date() });
    const auditor = await mkdtemp(path.join(os.tmpdir(), 'ledger-auditor-'));
    try {
      // Away from the service: no database, a data dir without a key.
      const offline = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => ledgerCommand(['report', 'verify',
        files.json!, '--manifest', files.manifest!, ...args], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        LEDGER_DATA_DIR: auditor, ...extraEnv });
      const unpinned = offline(['--json']);
      expect(unpinned.status, unpinned.stderr).toBe(0);
      expect(JSON.parse(unpinned.stdout)).toMatchObject({ ok: true, run_id: runId, origin: 'not checked',
        note: expect.stringMatching(/^integrity only: .*--public-key or set LEDGER_TRUSTED_KEYS to prove origin$/) });
      expect(offline([]).stdout).toMatch(/; origin not checked \(integrity only: /);

      const servicePem = path.join(auditor, 'service.pub.pem');
      await writeFile(servicePem, key.publicKeyPem); // what `ledger keys export` writes
      const pinned = offline(['--json'], { LEDGER_TRUSTED_KEYS: servicePem });
      expect(JSON.parse(pinned.stdout)).toMatchObject({ ok: true, origin: 'proved', note: null });
      expect(JSON.parse(offline(['--public-key', servicePem, '--json']).stdout))
        .toMatchObject({ ok: true, origin: 'proved' });

      const stranger = path.join(auditor, 'stranger.pub.pem');
      await writeFile(stranger, otherKey().publicKeyPem);
      const wrong = offline(['--public-key', stranger, '--json']);
      expect(wrong.status).toBe(1);
      expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, origin: 'not proved',
        reasons: [expect.stringMatching(new RegExp(`^run ${runId}: the manifest is signed by key [0-9a-f]{16}, ` +
          'which is not a trusted key'))] });
      expect(offline([], { LEDGER_TRUSTED_KEYS: stranger }).status).toBe(1);

      // A manifest missing `run` is the user's mistake: one line, exit 2, not a crash.
      const manifest = JSON.parse(await readFile(files.manifest!, 'utf8'));
      delete manifest.manifest.run;
      const broken = path.join(auditor, 'broken.manifest.json');
      await writeFile(broken, JSON.stringify(manifest));
      expectOneLineError(ledgerCommand(['report', 'verify', files.json!, '--manifest', broken],
        { LEDGER_DATA_DIR: auditor }), /broken\.manifest\.json is not a report manifest: no "run"/);
    } finally {
      await rm(auditor, { recursive: true, force: true });
    }
  }, 240_000);
});
