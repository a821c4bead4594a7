// HTML that escapes by default. How to write a page's markup:
//
//   import { html, raw, type Html } from '../html.ts';
//   const row = (f: Figure): Html => html`<tr><td>${f.key}</td><td class="amount">${f.value}</td></tr>`;
//   const body = html`<table>${figures.map(row)}</table>`;
//
// Every `${value}` is escaped (& < > " ') unless it is already Html (made by `html` or
// `raw`); arrays are joined; null, undefined and false render as nothing. `raw` is only
// for markup this program wrote (an inline SVG built with `html` is already Html: prefer
// that). Attribute values must be quoted: `href="${url}"`. Never build markup by string
// concatenation: a figure's dims or an event's payload are data from outside.

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

const escapes: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c] as string);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** The tagged template: literal parts as written, every interpolation escaped unless Html. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i += 1) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Markup this program made itself, inserted as is. Never for data. */
export function raw(text: string): Html {
  return new Html(text);
}

/** A query string from parts, leaving out empty ones: `?report=revenue&period=2026-10`. */
export function queryString(parts: Readonly<Record<string, string | number | null | undefined>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(parts)) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
