/**
 * Helpers for the UI toolkit's page tests (test/media/ui-*.test.ts): a browser context in a
 * language and a viewport, the checks every screenshot gets (non-blank, no sideways scroll),
 * and sign-in on the staff pages.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { launchChromium, recordConsole, saveScreenshot, waitForParleyState } from './browser.js';
import { firstAdmin, PASSWORD, type Staff } from './consultation.js';
import { startParley, type RunningParley } from './parleyServer.js';

export type Lang = 'en' | 'ko';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1200, height: 860 };

/** A context whose browser asks for `lang` first (navigator.languages and Accept-Language). */
export async function contextIn(browser: Browser, lang: Lang, viewport = DESKTOP, permissions: string[] = []): Promise<BrowserContext> {
  return browser.newContext({ viewport, locale: lang === 'ko' ? 'ko-KR' : 'en-US', permissions });
}

export async function openIn(browser: Browser, url: string, lang: Lang, viewport = DESKTOP, label = url): Promise<{ page: Page; context: BrowserContext; lines: string[] }> {
  const context = await contextIn(browser, lang, viewport);
  const page = await context.newPage();
  const lines = recordConsole(page, label);
  await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
  return { page, context, lines };
}

/** A screenshot is a page, not a blank canvas: many distinct colours, none covering nearly all. */
export function assertNotBlank(path: string): void {
  const png = PNG.sync.read(readFileSync(path));
  const counts = new Map<number, number>();
  for (let i = 0; i < png.data.length; i += 4 * 7) {
    const key = (png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const samples = png.data.length / (4 * 7);
  const dominant = Math.max(...counts.values()) / samples;
  assert.ok(counts.size >= 20 && dominant < 0.97, `${path} looks blank: ${counts.size} colours, the commonest covers ${(dominant * 100).toFixed(1)} %`);
}

/** Nothing on the page scrolls it sideways (document.documentElement.scrollWidth <= innerWidth). */
export async function assertNoHorizontalOverflow(page: Page, what: string): Promise<void> {
  const m = await page.evaluate(() => {
    const w = window.innerWidth;
    const wide = [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((el) => el.getBoundingClientRect().right > w + 1 && el.offsetParent !== null && !el.closest('.table-wrap'))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}`);
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: w, wide };
  });
  assert.ok(m.scrollWidth <= m.innerWidth, `${what} overflows sideways: scrollWidth ${m.scrollWidth} > ${m.innerWidth} (${m.wide.join(', ')})`);
}

export async function shoot(page: Page, name: string): Promise<string> {
  const path = await saveScreenshot(page, name);
  assertNotBlank(path);
  return path;
}

/** Signs in on the agent console or the admin dashboard (same field ids). */
export async function signInOnPage(page: Page, email: string, password: string): Promise<void> {
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#signin');
}

/** The page's visible text contains Hangul. */
export async function hasHangul(page: Page, selector = 'body'): Promise<boolean> {
  return /[\uac00-\ud7a3]/.test(await page.innerText(selector));
}

/**
 * Records every desktop notification the page raises in `window.__notifications` (the real
 * Notification is still constructed and shown).
 */
export async function recordNotifications(page: Page): Promise<void> {
  // A string, not a function: tsx's keepNames helpers (`__name`) do not exist in the page.
  await page.addInitScript({
    content: `(() => {
      const Real = window.Notification;
      const seen = [];
      window.__notifications = seen;
      if (!Real) return;
      class Recorded extends Real {
        constructor(title, options) {
          super(title, options);
          seen.push({ title, body: (options && options.body) || '' });
        }
      }
      Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
      Object.defineProperty(Recorded, 'requestPermission', { value: Real.requestPermission.bind(Real) });
      Object.defineProperty(window, 'Notification', { value: Recorded, writable: true, configurable: true });
    })();`,
  });
}

/** What a page test's describe block shares: one Parley, one Chromium, the first admin. */
export interface UiFixture {
  server: RunningParley;
  browser: Browser;
  admin: Staff;
}

/**
 * Registers before/after hooks in the calling describe block that start a Parley (one media
 * worker on loopback, plus `env`), Chromium and the first admin; the fields are set once `before` ran.
 */
export function uiFixture(env: Record<string, string> = {}): UiFixture {
  const f = {} as UiFixture;
  before(async () => {
    f.server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', ...env });
    f.browser = await launchChromium();
    f.admin = await firstAdmin(f.server.url);
  });
  after(async () => {
    await f.browser?.close();
    await f.server?.close();
  });
  return f;
}

/** Signs the first admin in on the dashboard (a fresh context in `lang`) and waits until it is ready. */
export async function adminDashboard(f: UiFixture, lang: Lang, viewport = DESKTOP): Promise<{ page: Page; context: BrowserContext; lines: string[] }> {
  const opened = await openIn(f.browser, `${f.server.url}/admin/`, lang, viewport);
  await signInOnPage(opened.page, 'admin@example.com', PASSWORD);
  await waitForParleyState(opened.page, 'ready');
  return opened;
}

/** Creates an entry point from the dashboard's form (after `fill` sets extra fields) and returns its card and id. */
export async function createEntryOnPage(page: Page, name: string, fill: (page: Page) => Promise<void> = async () => undefined): Promise<{ card: Locator; id: string }> {
  await page.click('#nav-entry');
  await page.fill('#entry-name', name);
  await fill(page);
  await page.click('#create-entry');
  const card = page.locator('#entries [data-entry-id]', { hasText: name });
  await card.waitFor({ timeout: 10_000 });
  const id = await card.getAttribute('data-entry-id');
  assert.ok(id, 'the card carries its entry point id');
  return { card, id };
}

/** Names, addresses and format names that stay as they are in a Korean page. */
const notEnglish = /[\w.+-]+@[\w.-]+|https?:\/\/\S+|\/[a-z]+\/|\b(?:Parley|QR|PNG|SVG|URL|PUBLIC_URL|JSON|TXT|WebVTT|SRT|Kim|Minji|Ada|Admin|Gangnam|store|localhost|Mbps|kbps)\b/g;

/** The English words (3+ letters) left in what `selector` shows, names, addresses and format names aside. */
export async function englishWordsIn(page: Page, selector: string): Promise<string[]> {
  return (await page.innerText(selector)).replace(notEnglish, ' ').match(/\b[A-Za-z]{3,}\b/g) ?? [];
}
