// Charts as server-rendered inline SVG: no script, no library, readable by a screen
// reader through its title and the table printed beside it. Amounts come in as decimal
// strings and are scaled to pixels through bigint minor units; the only numbers here are
// pixel positions.
import { minorToDecimalString } from '../ledger/money.ts';
import { html, type Html } from './html.ts';
import { groupDigits } from './layout.ts';

const palette = ['#0b5cad', '#b35c00', '#1e6b34', '#7b2d8e', '#a4161a', '#00727a', '#5a5a00', '#444c56'];

/** A decimal string in minor units of `exponent` (2: cents), exactly. */
export function toMinor(decimal: string, exponent = 2): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal);
  if (match === null) return 0n;
  const fraction = (match[3] ?? '').padEnd(exponent, '0').slice(0, exponent);
  const minor = BigInt(`${match[2]}${fraction}`);
  return match[1] === '-' ? -minor : minor;
}

/** The share `part / whole` of `pixels`, rounded to a tenth of a pixel. */
function scale(part: bigint, whole: bigint, pixels: number): number {
  if (whole === 0n) return 0;
  return Number((part * BigInt(Math.round(pixels * 10))) / whole) / 10;
}

export type BarSeries = { readonly label: string; readonly values: ReadonlyArray<string | null> };

/** Grouped vertical bars: one group per category (month), one bar per series (market). */
export function groupedBars(
  title: string, categories: readonly string[], series: readonly BarSeries[], unit: string, exponent = 2,
): Html {
  const width = 720;
  const height = 240;
  const left = 90;
  const bottom = 40;
  const plotHeight = height - bottom - 20;
  const minors = series.map((s) => s.values.map((v) => (v === null ? 0n : toMinor(v, exponent))));
  const max = minors.flat().reduce((m, v) => (v > m ? v : m), 0n);
  const groupWidth = (width - left - 10) / Math.max(categories.length, 1);
  // Bars stay narrow when there are few of them: a single month is not a wall of colour.
  const barWidth = Math.min(48, Math.max(4, (groupWidth - 12) / Math.max(series.length, 1)));
  const groupInset = (groupWidth - barWidth * series.length) / 2;
  const bars = categories.flatMap((category, c) => series.map((s, i) => {
    const value = minors[i]?.[c] ?? 0n;
    const h = Math.max(0, scale(value, max, plotHeight));
    const x = left + c * groupWidth + groupInset + i * barWidth;
    return html`<rect x="${x.toFixed(1)}" y="${(20 + plotHeight - h).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}"
      height="${h.toFixed(1)}" fill="${palette[i % palette.length] as string}"><title>${category}, ${s.label}: ${groupDigits(s.values[c] ?? '0')} ${unit}</title></rect>`;
  }));
  const labels = categories.map((category, c) => html`<text x="${(left + c * groupWidth + groupWidth / 2).toFixed(1)}"
    y="${height - bottom + 18}" text-anchor="middle">${category}</text>`);
  const maxText = groupDigits(minorToDecimalString(max, exponent));
  return html`<figure class="chart"><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}">
    <title>${title}</title>
    <line class="grid" x1="${left}" x2="${width - 10}" y1="20" y2="20"/>
    <text x="${left - 6}" y="24" text-anchor="end">${maxText}</text>
    <text x="${left - 6}" y="${20 + plotHeight + 4}" text-anchor="end">0</text>
    <line class="axis" x1="${left}" x2="${width - 10}" y1="${20 + plotHeight}" y2="${20 + plotHeight}"/>
    ${bars}${labels}</svg>
    <figcaption>${title}. ${legend(series.map((s) => s.label))}</figcaption></figure>`;
}

function legend(labels: readonly string[]): Html {
  return html`<span class="legend">${labels.map((label, i) => html`<span><svg width="12" height="12" aria-hidden="true"
    focusable="false"><rect width="12" height="12" fill="${palette[i % palette.length] as string}"/></svg> ${label} </span>`)}</span>`;
}

export type Step = { readonly label: string; readonly value: string; readonly kind: 'total' | 'up' | 'down' };

/** A roll-forward as a waterfall: opening, what was added and taken out, closing. */
export function waterfall(title: string, steps: readonly Step[], unit: string): Html {
  const width = 720;
  const rowHeight = 34;
  const left = 230;
  const height = steps.length * rowHeight + 20;
  let running = 0n;
  const positions = steps.map((step) => {
    const value = toMinor(step.value);
    const from = step.kind === 'total' ? 0n : running;
    const to = step.kind === 'total' ? value : step.kind === 'up' ? running + value : running - value;
    running = to;
    return { step, from, to };
  });
  const max = positions.reduce((m, p) => [p.from, p.to].reduce((a, b) => (b > a ? b : a), m), 1n);
  const rows = positions.map((p, i) => {
    const lo = p.from < p.to ? p.from : p.to;
    const hi = p.from < p.to ? p.to : p.from;
    const x = left + scale(lo < 0n ? 0n : lo, max, width - left - 130);
    const w = Math.max(1, scale(hi - lo, max, width - left - 130));
    const y = 10 + i * rowHeight;
    const colour = p.step.kind === 'total' ? '#444c56' : p.step.kind === 'up' ? '#1e6b34' : '#a4161a';
    const sign = p.step.kind === 'up' ? '+' : p.step.kind === 'down' ? '−' : '';
    return html`<text x="${left - 8}" y="${y + 20}" text-anchor="end">${p.step.label}</text>
      <rect x="${x.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 10}" fill="${colour}"/>
      <text x="${(x + w + 6).toFixed(1)}" y="${y + 20}">${sign}${groupDigits(p.step.value)} ${unit}</text>`;
  });
  return html`<figure class="chart"><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}">
    <title>${title}</title>${rows}</svg><figcaption>${title}.</figcaption></figure>`;
}
