// Browser journey 2 (issue 14): an auditor opens a figure from the link printed in the
// xlsx (read out of the downloaded workbook with exceljs), pages through its lineage,
// opens a line's entry and its raw event, and the event page shows the SHA-256 that the
// browser computed from the archived bytes equal to the one the ledger stored (and to
// the SHA-256 this test computes from the bytes in the database). Then the verification
// and trail pages, where the auditor's lineage reads are recorded. Real headless Chromium
// against the service on a real socket; every page is checked with axe-core and saved
// as a screenshot under test-output/screenshots/auditor/.
import { createHash } from 'node:crypto';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPage, launchBrowser, newContext } from '../support/browser.ts';
import { createWebWorld, type WebWorld } from '../support/web.ts';

const journey = 'auditor';

/** The Lineage sheet's rows as {key, value, link}, the link as the workbook prints it. */
async function printedLinks(xlsx: Buffer) {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(xlsx as unknown as ArrayBuffer);
  const sheet = workbook.getWorksheet('Lineage');
  if (sheet === undefined) throw new Error('the xlsx has no Lineage sheet');
  const header = (sheet.getRow(1).values as unknown[]).map(String);
  const column = (name: string) => header.indexOf(name);
  const rows: Array<{ key: string; value: number; link: string }> = [];
  sheet.eachRow((row, n) => {
    if (n === 1) return;
    const cell = (name: string) => row.getCell(column(name)).value;
    rows.push({ key: String(cell('Key')), value: Number(cell('Value')), link: String(cell('Lineage')) });
  });
  return rows;
}

describe('journey: an auditor walks from an xlsx figure to the raw event', () => {
  let world: WebWorld;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    world = await createWebWorld();
    base = await world.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  const text = async (page: Page, selector: string) => (await page.locator(selector).textContent())?.trim() ?? '';

  it('opens the printed link, pages the lineage, and sees the browser\'s hash equal the stored one', async () => {
    const download = await fetch(`${base}/api/report-runs/${world.usdRunId}/files/xlsx`,
      { headers: { authorization: `Bearer ${world.tokens.aud}` } });
    expect(download.status).toBe(200);
    const links = await printedLinks(Buffer.from(await download.arrayBuffer()));
    const largest = links.filter((l) => l.key === 'gross_booking_value').sort((a, b) => b.value - a.value)[0];
    expect(largest?.link).toMatch(/^http:\/\/localhost:8080\/figures\/fig_[0-9a-f]{24}$/);
    const figurePath = new URL(largest?.link as string).pathname;

    const context = await newContext(browser, base);
    const page = await context.newPage();
    await page.goto(`/login?next=${encodeURIComponent(figurePath)}`);
    await checkPage(page, journey, '01-login');
    await page.getByLabel('API token').fill(world.tokens.aud as string);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${base}${figurePath}`);
    expect(await text(page, 'h1')).toMatch(/^Gross booking value \(R\+P\+S\) — /);
    expect(await text(page, '[data-sum-check]')).toMatch(/^Sum of all lines\s+= value ✓/);
    await checkPage(page, journey, '02-figure');

    const firstEntries = await page.locator('tbody a[href^="/entries/"]').evaluateAll(
      (anchors) => anchors.map((a) => a.getAttribute('href')));
    expect(firstEntries.length).toBe(50);
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL(/cursor=/);
    const secondEntries = await page.locator('tbody a[href^="/entries/"]').evaluateAll(
      (anchors) => anchors.map((a) => a.getAttribute('href')));
    expect(secondEntries.length).toBeGreaterThan(0);
    expect(secondEntries.filter((href) => firstEntries.includes(href))).toEqual([]);
    expect(await text(page, '[data-sum-check]')).toMatch(/^Sum of all lines\s+= value ✓/);
    await checkPage(page, journey, '03-figure-lineage-page-2');

    await page.locator('tbody a[href^="/entries/"]').first().click();
    await page.waitForURL(/\/entries\//);
    expect(await text(page, 'main')).toContain('Previous hash');
    await checkPage(page, journey, '04-entry');

    await page.locator('main a[href^="/events/"]').first().click();
    await page.waitForURL(/\/events\//);
    await expect.poll(() => text(page, '#hash-verdict')).toBe('match');
    const stored = await text(page, '#stored-sha256');
    expect(await text(page, '#browser-sha256')).toBe(stored);
    const eventId = new URL(page.url()).pathname.split('/').at(-1) as string;
    const archived = await world.ledger.db.adminPool.query<{ value: Buffer }>(`SELECT m.value FROM ledger.raw_messages m
      JOIN ledger.journal_entries e USING (topic, partition, "offset") WHERE e.event_id = $1`, [eventId]);
    expect(createHash('sha256').update(archived.rows[0]?.value as Buffer).digest('hex')).toBe(stored);
    await checkPage(page, journey, '05-event');

    await page.getByRole('link', { name: 'Verification' }).click();
    await page.waitForURL(/\/verification$/);
    expect(await page.locator('tr[id^="checkpoint-"]').count()).toBeGreaterThan(0);
    await checkPage(page, journey, '06-verification');

    await page.goto('/trail?actor=aud&action=lineage.read');
    expect(await page.locator('tbody tr').count()).toBe(2);
    await checkPage(page, journey, '07-trail');
    await context.close();
  });
});
