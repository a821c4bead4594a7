// Proves the signed form of an adjustment's approval (EVENTS.md, adjustment.posted):
// - canonicalJson is RFC 8785 (JCS) for every value JSON.parse can give the ledger:
//   RFC 8785's own examples (§3.2.2 primitives and escaping, §3.2.3 key order by UTF-16
//   code units) and its Appendix B number table, byte for byte; so the approval reuses
//   it, and the hashes already stored over it stay as they are;
// - the bytes an approval signs are that JCS of `data` with only `approval.signature`
//   left out, pinned by a golden vector (key, bytes and signature; the signature was
//   checked apart from this code with `openssl pkeyutl -verify -rawin`, and the key id
//   with `openssl pkey -pubin -outform DER | sha256sum`);
// - signing then checking round-trips, and checking refuses what EVENTS.md refuses.
// Method: plain calls on the pure functions, with the tests' fixed key (support/keys.ts).
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  approvalKeys, approvalSigningBytes, checkApproval, signAdjustmentApproval,
} from '../../src/ledger/approval.ts';
import { canonicalJson } from '../../src/ledger/canonical.ts';
import { testSigningKey, testTrustedKeys, untrustedKey } from '../support/keys.ts';

/** JSON text → JSON.parse → canonicalJson, as the projector reads a message's data. */
const jcs = (jsonText: string) => canonicalJson(JSON.parse(jsonText));

describe('canonicalJson is RFC 8785 (JCS)', () => {
  it('serializes primitives and escapes strings as RFC 8785 §3.2.2 shows', () => {
    const input = `{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`;
    expect(jcs(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts keys by UTF-16 code units, as RFC 8785 §3.2.3 shows', () => {
    const input = `{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    // "\r" before "1" (no integer keys first, as a JS object would put them), and an astral
    // character (a surrogate pair, 0xD83D…) before U+FB33, unlike an order by code point.
    expect(jcs(input)).toBe('{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
      '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face",' +
      '"\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  });

  it('writes control characters as \\b \\t \\n \\f \\r or lowercase \\u00xx, and everything else as is', () => {
    expect(jcs('"\\u0000\\u0008\\u0009\\u000a\\u000c\\u000d\\u001f\\u007f\\u2028\\u00e9"'))
      .toBe('"\\u0000\\b\\t\\n\\f\\r\\u001f\u007f\u2028é"');
    expect(Buffer.from(jcs('"\\u00e9\\ud83d\\ude00"'), 'utf8').toString('hex')).toBe('22c3a9f09f988022');
  });

  it.each([
    ['0000000000000000', '0'], ['8000000000000000', '0'], ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'], ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'], ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'], ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'], ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'], ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'], ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'], ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'], ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'], ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'], ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('writes the IEEE 754 double %s as %s (RFC 8785 Appendix B)', (bits, expected) => {
    const value = Buffer.from(bits, 'hex').readDoubleBE(0);
    expect(canonicalJson(value)).toBe(expected);
    expect(canonicalJson({ n: [value] })).toBe(`{"n":[${expected}]}`);
  });

  it('refuses NaN and Infinity, which have no JSON form', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(/non-finite/);
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow(/non-finite/);
  });
});

const data = {
  adjustment_id: 'adj_golden', reason: 'Bank fee — October', requested_by: 'ops.maria.lopez',
  approved_by: 'fin.lead.olu', currency: 'USD',
  lines: [
    { account: '5900', side: 'debit', amount: '12.50' },
    { account: '1000', side: 'credit', amount: '12.50', dims: {} },
  ],
};

describe('the signed bytes (golden vector)', () => {
  const golden = {
    keyId: '3237861d901d20aa',
    publicKey: 'MCowBQYDK2VwAyEA/5RGW8m/ijsKYUuK98t9Qq62lT0MQLhOTtbmggSut0g=',
    bytes: '{"adjustment_id":"adj_golden","approval":{"approval_id":"apv_golden","key_id":"3237861d901d20aa"},' +
      '"approved_by":"fin.lead.olu","currency":"USD","lines":[{"account":"5900","amount":"12.50","side":"debit"},' +
      '{"account":"1000","amount":"12.50","dims":{},"side":"credit"}],"reason":"Bank fee — October",' +
      '"requested_by":"ops.maria.lopez"}',
    signature: '4lo1V02ZIiDg2yDUcCFCPIRI2p3B1mt7Nd4KRPwmc8/3n9CGfUcEFHeDDrUCQcW8iAgsLUN/FNXAkn3hQ+VyAQ==',
  };

  it('signs the JCS of data with approval {approval_id, key_id} and no signature', () => {
    expect(testSigningKey.keyId).toBe(golden.keyId);
    expect(testSigningKey.publicKeyPem).toContain(golden.publicKey);
    const signed = signAdjustmentApproval(data, testSigningKey, 'apv_golden');
    expect(signed.approval).toEqual({ approval_id: 'apv_golden', key_id: golden.keyId, signature: golden.signature });
    expect(approvalSigningBytes(signed)?.toString('utf8')).toBe(golden.bytes);
  });

  it('is deterministic: the same data and key give the same signature', () => {
    expect(signAdjustmentApproval(data, testSigningKey, 'apv_golden'))
      .toEqual(signAdjustmentApproval(data, testSigningKey, 'apv_golden'));
  });

  it('leaves out approval.signature only: other approval fields are signed', () => {
    const withExtra = { ...data, approval: { approval_id: 'a', key_id: 'k', signature: 's', note: 'n' } };
    expect(approvalSigningBytes(withExtra)?.toString('utf8'))
      .toContain('"approval":{"approval_id":"a","key_id":"k","note":"n"}');
  });

  it('does not change the data given to it', () => {
    const copy = structuredClone(data);
    signAdjustmentApproval(data, testSigningKey, 'apv_golden');
    expect(data).toEqual(copy);
  });
});

describe('checkApproval', () => {
  const keys = approvalKeys(testTrustedKeys);

  it('allows a signature by a trusted key over this very data', () => {
    expect(checkApproval(signAdjustmentApproval(data, testSigningKey, 'apv_1'), keys)).toBeNull();
  });

  it('allows the data whatever order its keys arrive in', () => {
    const signed = signAdjustmentApproval(data, testSigningKey, 'apv_1');
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(signed).reverse())));
    expect(checkApproval(reordered, keys)).toBeNull();
  });

  it('refuses a signature by a key it does not trust, naming the key', () => {
    const rejection = checkApproval(signAdjustmentApproval(data, untrustedKey, 'apv_1'), keys);
    expect(rejection).toMatchObject({ reason: 'unapproved_adjustment' });
    expect(rejection?.message).toContain(untrustedKey.keyId);
  });

  it('refuses a signature by a trusted key over other data', () => {
    const signed = signAdjustmentApproval(data, testSigningKey, 'apv_1');
    const rejection = checkApproval({ ...signed, currency: 'CAD' }, keys);
    expect(rejection?.message).toMatch(/approval "apv_1" does not verify with key 3237861d901d20aa/);
  });

  it('refuses to sign data that RFC 8785 cannot encode (a lone surrogate)', () => {
    expect(() => signAdjustmentApproval({ ...data, reason: '\ud800' }, testSigningKey, 'apv_1'))
      .toThrow(/lone surrogate/);
    expect(approvalSigningBytes({ ...data, ['\udc00']: 'x' })).toBeNull();
    expect(approvalSigningBytes({ ...data, reason: '😀 whole pairs are fine' })).not.toBeNull();
  });

  it('makes a KeyObject per trusted key once, and refuses a trusted key that is not Ed25519', () => {
    expect([...keys.byKeyId.keys()]).toEqual([testSigningKey.keyId]);
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => approvalKeys({ keys: [{ keyId: 'x', publicKeyPem: x25519, source: 'test' }] })).toThrow(/Ed25519/);
  });
});
