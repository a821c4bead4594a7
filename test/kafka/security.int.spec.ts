// Kafka security (LEDGER_KAFKA_TLS…, LEDGER_KAFKA_SASL…) against a real broker this file
// starts once, with a SASL_PLAINTEXT listener (SCRAM-SHA-256/512, a user made at format
// time) and an SSL listener that requires a client certificate (a throw-away CA made
// with openssl). The ledger's own producer and consumer publish and project over
// SCRAM-SHA-512 and over TLS with a client certificate, to the journal the embedded log
// gives; `ledger events publish` works over SCRAM-SHA-256; a wrong password and an
// untrusted CA each fail at once with one line naming the broker (and the mechanism).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBroker } from '../../tools/kafka-broker/broker.ts';
import { journalDigest } from '../support/journal-digest.ts';
import {
  createKafkaLedger, embeddedDigest, makeTestPki, startLedger, startTestBroker, type KafkaLedger, type TestPki,
} from '../support/kafka.ts';
import { captureLine } from '../support/ledger.ts';

const partitions = 2;
const lines = Array.from({ length: 40 }, (_, n) => captureLine(n));
const user = { username: 'ledger', password: 'scram-pass-7f3a' };

describe('Kafka over SASL SCRAM and TLS', () => {
  let broker: KafkaBroker;
  let dir: string;
  let pki: TestPki;
  let passwordFile: string;
  const ledgers: KafkaLedger[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ledger-kafka-security-'));
    pki = await makeTestPki(dir);
    passwordFile = path.join(dir, 'password');
    await writeFile(passwordFile, `${user.password}\n`, { mode: 0o600 });
    broker = await startTestBroker({
      security: {
        scramUsers: [user],
        tls: { certificateChainPem: pki.serverCertPem, privateKeyPem: pki.serverKeyPem, clientCaPem: pki.caPem },
      },
      log: (line) => process.stderr.write(`[kafka-security] ${line}\n`),
    });
  });
  afterAll(async () => {
    for (const ledger of ledgers) await ledger.close();
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const scram512 = () => ({ LEDGER_KAFKA_SASL_MECHANISM: 'scram-sha-512', LEDGER_KAFKA_SASL_USERNAME: user.username,
    LEDGER_KAFKA_SASL_PASSWORD_FILE: passwordFile });
  const mtls = () => ({ LEDGER_KAFKA_TLS: '1', LEDGER_KAFKA_TLS_CA_FILE: pki.caFile,
    LEDGER_KAFKA_TLS_CERT_FILE: pki.clientCertFile, LEDGER_KAFKA_TLS_KEY_FILE: pki.clientKeyFile });

  async function publishAndProject(name: string, brokers: string, env: Record<string, string>): Promise<KafkaLedger> {
    const ledger = await createKafkaLedger({ partitions, name, brokers, env });
    ledgers.push(ledger);
    await ledger.publish(lines);
    const result = await ledger.project();
    expect(result.posted).toBe(lines.length);
    expect(await journalDigest(ledger.db.pool)).toEqual(await embeddedDigest(ledger.topic, partitions, { lines }));
    expect(await ledger.progress()).toBe(lines.length);
    return ledger;
  }

  it('publishes and projects over SASL SCRAM-SHA-512', async () => {
    await publishAndProject('scram', broker.scramBrokers!, scram512());
  });

  it('publishes and projects over TLS with a client certificate', async () => {
    await publishAndProject('mtls', broker.sslBrokers!, mtls());
  });

  it('`ledger events publish` reaches the broker over SCRAM-SHA-256 with the password in the environment', async () => {
    const ledger = ledgers[0]!;
    const file = path.join(ledger.dataDir, 'more.ndjson');
    await writeFile(file, `${captureLine(1000)}\n`);
    const run = await startLedger(ledger, ['events', 'publish', file, '--json'], {
      LEDGER_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256', LEDGER_KAFKA_SASL_PASSWORD_FILE: '',
      LEDGER_KAFKA_SASL_PASSWORD: user.password,
    }).exited;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ published: 1 });
  });

  it('a wrong password fails at once, in one line naming the broker and the mechanism', async () => {
    const ledger = ledgers[0]!;
    const file = path.join(ledger.dataDir, 'refused.ndjson');
    await writeFile(file, `${captureLine(1001)}\n`);
    const wrong = path.join(dir, 'wrong-password');
    await writeFile(wrong, 'not-the-password\n');
    const startedMs = Date.now();
    const run = await startLedger(ledger, ['events', 'publish', file], { LEDGER_KAFKA_SASL_PASSWORD_FILE: wrong }).exited;
    expect(run.code).toBe(2);
    const stderr = run.stderr.trim().split('\n');
    expect(stderr).toEqual([expect.stringMatching(new RegExp(`^ledger: the Kafka broker\\(s\\) ${broker.scramBrokers} ` +
      'refused SASL SCRAM-SHA-512 authentication as "ledger" .*check LEDGER_KAFKA_SASL_USERNAME'))]);
    expect(run.stderr).not.toContain('not-the-password');
    expect(Date.now() - startedMs).toBeLessThan(25_000); // no 30 s of retries for a refusal
  });

  it('a CA that did not sign the broker\'s certificate fails at once, in one line', async () => {
    const ledger = ledgers[1]!;
    const file = path.join(ledger.dataDir, 'untrusted.ndjson');
    await writeFile(file, `${captureLine(1002)}\n`);
    const run = await startLedger(ledger, ['events', 'publish', file], { LEDGER_KAFKA_TLS_CA_FILE: pki.otherCaFile }).exited;
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^ledger: TLS to the Kafka ` +
      `broker\\(s\\) ${broker.sslBrokers}: the broker's certificate is not trusted \\(.+\\); check LEDGER_KAFKA_TLS_CA_FILE`))]);
  });

  it('a broker that requires a client certificate refuses a client without one, in one line', async () => {
    const ledger = ledgers[1]!;
    const file = path.join(ledger.dataDir, 'anonymous.ndjson');
    await writeFile(file, `${captureLine(1003)}\n`);
    const run = await startLedger(ledger, ['events', 'publish', file],
      { LEDGER_KAFKA_TLS_CERT_FILE: '', LEDGER_KAFKA_TLS_KEY_FILE: '' }).exited;
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^ledger: TLS to the Kafka ` +
      `broker\\(s\\) ${broker.sslBrokers}: the broker refused the client certificate \\(TLS alert: [a-z ]+\\); check LEDGER_KAFKA_TLS_CERT_FILE`))]);
  });
});
