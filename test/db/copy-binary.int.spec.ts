// The binary COPY writer (src/db/copy.ts), which writes every journal row: each type it
// encodes reads back from PostgreSQL as exactly the value given, at the edges that matter
// to a ledger (microseconds, years before 2000 and before 100, amounts beyond 2^53,
// negative amounts, UTF-8 beyond ASCII, NULLs, empty bytea, bytea given as hex digits,
// ids and times repeated from one row to the next), and a value of the wrong
// shape is refused before anything is sent. Method: a temp table of every type, rows
// written through copyBinary, read back as text by PostgreSQL's own output functions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyBinary, microsHalves, StagedCopy, type CopyColumn, type CopyValue } from '../../src/db/copy.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const columns: readonly CopyColumn[] = [['t', 'text'], ['s', 'int2'], ['i', 'int4'], ['b', 'int8'], ['f', 'bool'],
  ['y', 'bytea'], ['u', 'uuid'], ['ts', 'timestamptz'], ['d', 'date'], ['j', 'jsonb']];

const rows: CopyValue[][] = [
  ['plain', 1, 2, 3, true, Buffer.from([0, 255]), '00000000-0000-4000-8000-000000000001',
    '2026-10-31T23:59:59.999999Z', '2026-10-01', '{"a":[1,"x"]}'],
  ['Zürich — 東京 😀\ttab\nline\\', -32768, -2147483648, -(10n ** 18n), false, Buffer.alloc(0),
    'ABCDEF01-2345-8678-9ABC-DEF012345678', '1999-12-31T23:59:59.000001Z', '1999-12-31', '"s"'],
  ['', 32767, 2147483647, 9_007_199_254_740_993n, true, Buffer.from('x'), 'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '0001-01-01T00:00:00.000000Z', '0099-03-01', 'null'],
  [null, null, null, null, null, null, null, null, null, null],
  ['ms', 0, 0, 0, false, '01', '12345678-1234-1234-1234-123456789abc', '2026-10-30T14:22:05.123Z',
    '2000-01-01', '{}'],
  // int8 around the 32-bit halves it is written in: negative numbers and safe bigints.
  ['a\u007f', 0, 0, -1, false, null, null, '1970-01-01T00:00:00.000001Z', null, null],
  ['x'.repeat(64) + 'é', 0, 0, -(2n ** 40n) - 1n, false, null, null, null, null, null],
  ['x'.repeat(65), 0, 0, Number.MAX_SAFE_INTEGER, false, null, null, null, null, null],
  ['', 0, 0, -Number.MAX_SAFE_INTEGER, false, null, null, null, null, null],
];

const expected = [
  ['plain', '1', '2', '3', 'true', '\\x00ff', '00000000-0000-4000-8000-000000000001',
    '2026-10-31 23:59:59.999999+00', '2026-10-01', '{"a": [1, "x"]}'],
  ['Zürich — 東京 😀\ttab\nline\\', '-32768', '-2147483648', '-1000000000000000000', 'false', '\\x',
    'abcdef01-2345-8678-9abc-def012345678', '1999-12-31 23:59:59.000001+00', '1999-12-31', '"s"'],
  ['', '32767', '2147483647', '9007199254740993', 'true', '\\x78', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '0001-01-01 00:00:00+00', '0099-03-01', 'null'],
  [null, null, null, null, null, null, null, null, null, null],
  ['ms', '0', '0', '0', 'false', '\\x01', '12345678-1234-1234-1234-123456789abc', '2026-10-30 14:22:05.123+00',
    '2000-01-01', '{}'],
  ['a\u007f', '0', '0', '-1', 'false', null, null, '1970-01-01 00:00:00.000001+00', null, null],
  ['x'.repeat(64) + 'é', '0', '0', '-1099511627777', 'false', null, null, null, null, null],
  ['x'.repeat(65), '0', '0', '9007199254740991', 'false', null, null, null, null, null],
  ['', '0', '0', '-9007199254740991', 'false', null, null, null, null, null],
];

describe('copyBinary', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  async function roundTrip(values: readonly (readonly CopyValue[])[]): Promise<unknown[][]> {
    const client = await db.adminPool.connect();
    try {
      await client.query(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'`);
      await client.query(`CREATE TEMP TABLE every_type (n serial, t text, s int2, i int4, b int8, f bool, y bytea,
        u uuid, ts timestamptz, d date, j jsonb)`);
      await copyBinary(client, 'every_type', columns, values);
      const result = await client.query({ text: `SELECT t, s::text, i::text, b::text, f::text, y::text, u::text,
        ts::text, d::text, j::text FROM every_type ORDER BY n`, rowMode: 'array' });
      return result.rows as unknown[][];
    } finally {
      client.release(true);
    }
  }

  it('writes every type so that PostgreSQL reads back exactly the value given', async () => {
    expect(await roundTrip(rows)).toEqual(expected);
  });

  it('writes many rows across chunk boundaries', async () => {
    const many = Array.from({ length: 30_000 }, (_, n) => [`row ${n} ${'é'.repeat(n % 50)}`, n % 1000, n, BigInt(n) * 10n ** 12n,
      n % 2 === 0, Buffer.alloc(n % 100, n % 256), '00000000-0000-4000-8000-000000000001',
      '2026-10-31T23:59:59.5Z', '2026-10-01', `{"n":${n}}`]);
    const back = await roundTrip(many);
    expect(back).toHaveLength(many.length);
    expect(back[29_999]).toEqual([`row 29999 ${'é'.repeat(29_999 % 50)}`, '999', '29999', '29999000000000000', 'false',
      `\\x${Buffer.alloc(99, 29_999 % 256).toString('hex')}`, '00000000-0000-4000-8000-000000000001',
      '2026-10-31 23:59:59.5+00', '2026-10-01', '{"n": 29999}']);
  });

  it('writes a timestamp given as microseconds since 2000 in two 32-bit halves, before and after 2000', async () => {
    const client = await db.adminPool.connect();
    try {
      await client.query(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'`);
      await client.query('CREATE TEMP TABLE micros (n int4, ts timestamptz)');
      const texts = ['2026-10-31T23:59:59.999999Z', '2000-01-01T00:00:00.000000Z', '1999-12-31T23:59:59.999999Z',
        '1950-06-15T12:00:00.000001Z', '1716-01-01T00:00:00.000001Z', '2284-12-31T23:59:59.999999Z'];
      const staged = new StagedCopy('micros', [['n', 'int4'], ['ts', 'timestamptz']]);
      const halves = new Int32Array(2);
      for (const [n, text] of texts.entries()) {
        const micros = (Date.parse(`${text.slice(0, 19)}Z`) - Date.UTC(2000, 0, 1)) * 1000 + Number(text.slice(20, 26));
        microsHalves(micros, halves);
        staged.row();
        staged.value(n);
        staged.postgresMicros(halves[0] as number, halves[1] as number);
      }
      await staged.send(client);
      const back = await client.query<{ ts: string }>(
        `SELECT to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts FROM micros ORDER BY n`);
      expect(back.rows.map((row) => row.ts)).toEqual(texts);
      expect(() => microsHalves(2 ** 53, halves)).toThrow(/not a safe integer/);
      // Further from 2000 the count is beyond a double's exact integers: given as text, to the microsecond.
      const far = ['1500-06-15T12:00:00.000001Z', '0100-01-01T00:00:00.000001Z', '2500-01-01T00:00:00.999999Z'];
      await client.query('TRUNCATE micros');
      await copyBinary(client, 'micros', [['n', 'int4'], ['ts', 'timestamptz']], far.map((text, n) => [n, text]));
      const farBack = await client.query<{ ts: string }>(
        `SELECT to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts FROM micros ORDER BY n`);
      expect(farBack.rows.map((row) => row.ts)).toEqual(far);
    } finally {
      client.release(true);
    }
  });

  it('sends nothing of rows staged and then discarded, and takes no row after', async () => {
    const client = await db.adminPool.connect();
    try {
      await client.query('CREATE TEMP TABLE staged (v text)');
      const staged = new StagedCopy('staged', [['v', 'text']]);
      staged.row();
      staged.value('kept back');
      staged.discard();
      expect(() => staged.row()).toThrow(/no rows after the COPY was sent/);
      await expect(staged.send(client)).rejects.toThrow(/sent once/);
      expect((await client.query('SELECT count(*)::int AS n FROM staged')).rows[0].n).toBe(0);
      const tooMany = new StagedCopy('staged', [['v', 'text']]);
      tooMany.row();
      tooMany.value('one');
      expect(() => tooMany.value('two')).toThrow(/no more values than columns/);
    } finally {
      client.release(true);
    }
  });

  it.each([
    ['text', 5], ['int2', '5'], ['int4', 1.5], ['int8', 2 ** 53], ['bool', 'true'], ['bytea', 'x'],
    ['bytea', 'abc'], ['bytea', '0g'], ['uuid', '00000000-0000-4000-8000-00000000000g'], ['uuid', '00000000+0000-4000-8000-000000000001'],
    ['timestamptz', '2026-10-30T14:22:05+02:00'], ['timestamptz', '2026-10-30 14:22:05Z'],
    ['date', '2026-10-1'], ['date', '2026-13-01'], ['jsonb', {}],
  ])('refuses a %s column given %j, before anything is written', async (type, value) => {
    const client = await db.adminPool.connect();
    try {
      await client.query('CREATE TEMP TABLE one (v text)');
      await expect(copyBinary(client, 'one', [['v', type as CopyColumn[1]]], [[value as CopyValue]]))
        .rejects.toThrow(/copyBinary one\.v/);
      expect((await client.query('SELECT count(*)::int AS n FROM one')).rows[0].n).toBe(0);
    } finally {
      client.release(true);
    }
  });
});
