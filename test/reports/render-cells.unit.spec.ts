// Proves the pure edges the renderers share: the one money → JS number conversion (for
// xlsx numeric cells) is exact to the cent where it accepts and refuses where a double
// would move a cent (with the counter-example that shows why the bound is 10^13, not
// 2^53/100); counts refuse fractions and unsafe integers; grouping and currency symbols
// are done by string; csv quoting follows RFC 4180 and a text field that a spreadsheet
// would run as a formula gets one ' in front; xlsx text escapes what XML would lose.
// Method: fixed vectors, a sweep of random decimals checked by string comparison, and
// the known double arithmetic computed with Number only inside the test.
import { describe, expect, it } from 'vitest';
import {
  countToSpreadsheetNumber, groupedDecimal, moneyToSpreadsheetNumber,
} from '../../src/reports/render/cells.ts';
import { csvField, csvTextValue } from '../../src/reports/render/csv.ts';
import { moneyNumberFormat, spreadsheetText } from '../../src/reports/render/xlsx.ts';

describe('money as a spreadsheet number', () => {
  it('accepts plain decimals of at most two places below 10^13', () => {
    expect(moneyToSpreadsheetNumber('1234.56', 't')).toBe(1234.56);
    expect(moneyToSpreadsheetNumber('-20.05', 't')).toBe(-20.05);
    expect(moneyToSpreadsheetNumber('7', 't')).toBe(7);
    expect(moneyToSpreadsheetNumber('0.5', 't')).toBe(0.5);
    expect(String(moneyToSpreadsheetNumber('9999999999999.99', 't'))).toBe('9999999999999.99');
    expect(Object.is(moneyToSpreadsheetNumber('-0.00', 't'), -0)).toBe(true);
  });

  it('refuses what would not be the same amount', () => {
    expect(() => moneyToSpreadsheetNumber('1.234', 't')).toThrow(/≤ 2 places/);
    expect(() => moneyToSpreadsheetNumber('1e5', 't')).toThrow(/≤ 2 places/);
    expect(() => moneyToSpreadsheetNumber('1,000.00', 't')).toThrow(/≤ 2 places/);
    expect(() => moneyToSpreadsheetNumber('10000000000000.00', 't')).toThrow(/beyond 10\^13/);
  });

  it('needs the 10^13 bound: below 2^53/100 a double can still move a cent', () => {
    // Between 2^46 and 2^47 doubles are 1/64 apart, so .01 lands on .015625.
    expect(80_000_000_000_000.01 < 2 ** 53 / 100).toBe(true);
    expect(Number('80000000000000.01').toFixed(2)).toBe('80000000000000.02');
    expect(() => moneyToSpreadsheetNumber('80000000000000.01', 't')).toThrow(/beyond 10\^13/);
  });

  it('round-trips every sampled decimal below 10^13 exactly, as the file will hold it', () => {
    let seed = 12345;
    const next = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed; };
    for (let i = 0; i < 20_000; i += 1) {
      const digits = 1 + (next() % 13);
      const whole = String(next()).padStart(10, '0').repeat(2).slice(0, digits).replace(/^0+(?=[0-9])/, '');
      const value = `${next() % 2 === 0 ? '-' : ''}${whole}.${String(next() % 100).padStart(2, '0')}`;
      const number = moneyToSpreadsheetNumber(value, 'sweep');
      expect(number.toFixed(2)).toBe(value.replace(/^-(?=0\.00$)/, ''));
    }
  });

  it('takes counts as safe integers only', () => {
    expect(countToSpreadsheetNumber('4021', 't')).toBe(4021);
    expect(() => countToSpreadsheetNumber('12.0', 't')).toThrow(/not an integer/);
    expect(() => countToSpreadsheetNumber('9007199254740993', 't')).toThrow(/beyond 2\^53/);
  });
});

describe('display strings', () => {
  it('groups digits by string', () => {
    expect(groupedDecimal('1234567.5', 2)).toBe('1,234,567.50');
    expect(groupedDecimal('-1000', 2)).toBe('-1,000.00');
    expect(groupedDecimal('999', 0)).toBe('999');
    expect(groupedDecimal('4021', 0)).toBe('4,021');
  });

  it('names each currency in the xlsx number format', () => {
    expect(moneyNumberFormat('USD')).toBe('"$"#,##0.00');
    expect(moneyNumberFormat('CAD')).toBe('"CA$"#,##0.00');
    expect(moneyNumberFormat('EUR')).toBe('#,##0.00 "EUR"');
    expect(moneyNumberFormat(null)).toBe('#,##0.00');
  });

  it('quotes csv fields as RFC 4180 asks, and only then', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('')).toBe('""');
    expect(csvField(null)).toBe('');
  });

  it('guards csv text fields against formulas (OWASP) and leaves numbers as numbers', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r', "'"]) {
      expect(csvField(`${start}1+2`)).toBe(`"'${start}1+2"`);
      expect(csvTextValue(`'${start}1+2`)).toBe(`${start}1+2`);
    }
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('-5.00', 'number')).toBe('-5.00');
    expect(csvField('-5.00')).toBe(`"'-5.00"`);
    expect(csvField('-1+2', 'number')).toBe(`"'-1+2"`);
    expect(csvField('US-CA')).toBe('US-CA');
  });

  it('escapes in xlsx text what XML would drop or change', () => {
    expect(spreadsheetText('plain, "quoted"')).toBe('plain, "quoted"');
    expect(spreadsheetText('two\r\nlines')).toBe('two_x000D_\nlines');
    expect(spreadsheetText('bell\u0007')).toBe('bell_x0007_');
    expect(spreadsheetText('tab\tstays')).toBe('tab\tstays');
    expect(spreadsheetText('literal _x0041_')).toBe('literal _x005F_x0041_');
  });
});
