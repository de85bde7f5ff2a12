/**
 * Renders a report.html in Debian's headless Chromium, driven by puppeteer-core (which downloads
 * no browser), and reports what the page did: console errors, network requests other than the
 * file itself, and per chart the series Chart.js drew and how many canvas pixels are painted.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumPresent = () => existsSync(CHROMIUM);

export interface DrawnChart {
  id: string;
  series: string[];
  paintedPixels: number;
  width: number;
  height: number;
}

export interface Rendered {
  errors: string[];
  /** URLs the page asked for besides itself (a self-contained report asks for none). */
  requests: string[];
  chartsDrawn: number;
  charts: DrawnChart[];
  /** Text of every table cell, per table, by data-file. */
  tables: Record<string, string[][]>;
}

export async function renderReport(htmlPath: string, screenshotPath?: string, javaScript = true): Promise<Rendered> {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no user namespace for the sandbox; the page is our own file.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
  try {
    const page = await browser.newPage();
    await page.setJavaScriptEnabled(javaScript);
    await page.setViewport({ width: 1280, height: 900 });
    const errors: string[] = [];
    const requests: string[] = [];
    const self = pathToFileURL(htmlPath).href;
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => {
      if (r.url() !== self) requests.push(r.url());
    });
    await page.goto(self, { waitUntil: 'load' });
    if (javaScript) await page.waitForFunction(() => document.documentElement.dataset.chartsDrawn !== undefined, { timeout: 20_000 });
    const result = await page.evaluate(() => {
      const charts = [...document.querySelectorAll('canvas')].map((c) => {
        const ctx = c.getContext('2d')!;
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
        return { id: c.id.replace(/^chart-/, ''), series: JSON.parse(c.dataset.series ?? '[]') as string[], paintedPixels: painted, width: c.width, height: c.height };
      });
      const tables: Record<string, string[][]> = {};
      for (const t of document.querySelectorAll('table')) {
        tables[t.dataset.file ?? ''] = [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''));
      }
      return { chartsDrawn: Number(document.documentElement.dataset.chartsDrawn ?? 0), charts, tables };
    });
    if (screenshotPath) await page.screenshot({ path: screenshotPath as `${string}.png` });
    return { errors, requests, ...result };
  } finally {
    await browser.close();
  }
}
