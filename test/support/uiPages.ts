/**
 * Helpers for the UI toolkit's page tests (test/media/ui-*.test.ts): a browser context in a
 * language and a viewport, the checks every screenshot gets (non-blank, no sideways scroll),
 * and sign-in on the staff pages.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { recordConsole, saveScreenshot } from './browser.js';

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
