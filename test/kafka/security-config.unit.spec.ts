// The Kafka security settings as an operator meets them in src/config.ts: each mistake is
// a one-line UserError naming the variable to fix; files are read at start; the password
// and the client key never show when the config is printed, serialised or inspected; and
// they reach kafkajs as its `ssl` and `sasl` options.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { UserError } from '../../src/errors.ts';
import { securityOptions } from '../../src/log/kafka/client.ts';

describe('LEDGER_KAFKA_TLS… and LEDGER_KAFKA_SASL…', () => {
  let dir: string;
  let ca: string;
  let key: string;
  let cert: string;
  let password: string;
  const pem = (label: string) => `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kafka-security-config-'));
    [ca, cert, key, password] = ['ca.pem', 'cert.pem', 'key.pem', 'password'].map((name) => path.join(dir, name)) as
      [string, string, string, string];
    await writeFile(ca, pem('CERTIFICATE'));
    await writeFile(cert, pem('CERTIFICATE'));
    await writeFile(key, pem('PRIVATE KEY'));
    await writeFile(password, 's3cret-Pw\n');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const load = (env: Record<string, string>) => loadConfig({ KAFKA_BROKERS: 'kafka-1:9093', ...env });

  function refused(env: Record<string, string>, pattern: RegExp): void {
    let error: unknown;
    try {
      load(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(pattern);
  }

  it('reads TLS and SCRAM settings, and hands them to kafkajs', () => {
    const config = load({ LEDGER_KAFKA_TLS: '1', LEDGER_KAFKA_TLS_CA_FILE: ca, LEDGER_KAFKA_TLS_CERT_FILE: cert,
      LEDGER_KAFKA_TLS_KEY_FILE: key, LEDGER_KAFKA_TLS_SERVERNAME: 'kafka.internal',
      LEDGER_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', LEDGER_KAFKA_SASL_USERNAME: 'ledger',
      LEDGER_KAFKA_SASL_PASSWORD_FILE: password });
    expect(securityOptions(config.kafkaSecurity)).toEqual({
      ssl: { rejectUnauthorized: true, ca: pem('CERTIFICATE'), cert: pem('CERTIFICATE'), key: pem('PRIVATE KEY'),
        servername: 'kafka.internal' },
      sasl: { mechanism: 'scram-sha-512', username: 'ledger', password: 's3cret-Pw' },
    });
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 10 }), String(config.kafkaSecurity.sasl?.password)]) {
      expect(shown).not.toContain('s3cret-Pw');
      expect(shown).not.toContain('PRIVATE KEY');
    }
    expect(securityOptions(load({}).kafkaSecurity)).toEqual({});
    // Without KAFKA_BROKERS the embedded log is used: nothing of Kafka is read.
    expect(loadConfig({ LEDGER_KAFKA_TLS_CA_FILE: path.join(dir, 'none.pem') }).kafkaSecurity).toEqual({ tls: null, sasl: null });
  });

  it('names the variable to fix, in one line', () => {
    refused({ LEDGER_KAFKA_TLS: 'yes' }, /^LEDGER_KAFKA_TLS="yes" is not 1 or 0$/);
    refused({ LEDGER_KAFKA_TLS_CA_FILE: ca }, /^LEDGER_KAFKA_TLS_CA_FILE is set but LEDGER_KAFKA_TLS is not 1/);
    refused({ LEDGER_KAFKA_TLS: '1', LEDGER_KAFKA_TLS_CA_FILE: path.join(dir, 'none.pem') },
      /^LEDGER_KAFKA_TLS_CA_FILE=.*none\.pem: cannot read the file \(ENOENT\)$/);
    refused({ LEDGER_KAFKA_TLS: '1', LEDGER_KAFKA_TLS_CA_FILE: key }, /^LEDGER_KAFKA_TLS_CA_FILE=.*key\.pem holds no PEM certificate$/);
    refused({ LEDGER_KAFKA_TLS: '1', LEDGER_KAFKA_TLS_CERT_FILE: cert },
      /^LEDGER_KAFKA_TLS_CERT_FILE is set but LEDGER_KAFKA_TLS_KEY_FILE is not/);
    refused({ LEDGER_KAFKA_TLS: '1', LEDGER_KAFKA_TLS_CERT_FILE: cert, LEDGER_KAFKA_TLS_KEY_FILE: ca },
      /^LEDGER_KAFKA_TLS_KEY_FILE=.* holds no PEM private key$/);
    refused({ LEDGER_KAFKA_SASL_MECHANISM: 'gssapi' },
      /^LEDGER_KAFKA_SASL_MECHANISM="gssapi" is not one of plain, scram-sha-256, scram-sha-512$/);
    refused({ LEDGER_KAFKA_SASL_USERNAME: 'ledger' }, /^LEDGER_KAFKA_SASL_USERNAME is set but LEDGER_KAFKA_SASL_MECHANISM is not/);
    refused({ LEDGER_KAFKA_SASL_MECHANISM: 'scram-sha-256', LEDGER_KAFKA_SASL_PASSWORD: 'x' },
      /^LEDGER_KAFKA_SASL_MECHANISM=scram-sha-256 needs LEDGER_KAFKA_SASL_USERNAME$/);
    refused({ LEDGER_KAFKA_SASL_MECHANISM: 'scram-sha-256', LEDGER_KAFKA_SASL_USERNAME: 'ledger' },
      /needs LEDGER_KAFKA_SASL_PASSWORD or LEDGER_KAFKA_SASL_PASSWORD_FILE/);
    refused({ LEDGER_KAFKA_SASL_MECHANISM: 'scram-sha-256', LEDGER_KAFKA_SASL_USERNAME: 'ledger',
      LEDGER_KAFKA_SASL_PASSWORD: 'x', LEDGER_KAFKA_SASL_PASSWORD_FILE: password }, /are both set: keep one$/);
    refused({ LEDGER_KAFKA_SASL_MECHANISM: 'plain', LEDGER_KAFKA_SASL_USERNAME: 'ledger', LEDGER_KAFKA_SASL_PASSWORD: 'x' },
      /^LEDGER_KAFKA_SASL_MECHANISM=plain would send the password in clear: set LEDGER_KAFKA_TLS=1/);
    expect(load({ LEDGER_KAFKA_TLS: '1', LEDGER_KAFKA_SASL_MECHANISM: 'plain', LEDGER_KAFKA_SASL_USERNAME: 'ledger',
      LEDGER_KAFKA_SASL_PASSWORD: 'x' }).kafkaSecurity).toMatchObject({ tls: { ca: null }, sasl: { mechanism: 'plain' } });
  });
});
