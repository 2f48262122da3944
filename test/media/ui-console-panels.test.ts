/**
 * The agent console's incoming-call card and call panel (Preact views, issue 15) in real
 * Chromium, in Korean and English at desktop width and at 390 px: the card shows who calls,
 * their number in the page's format, the inquiry, the entry point and the seconds left; once
 * accepted the panel shows the call's state, a running clock, the customer's details, and
 * Mute / Hold / End, whose labels follow what they do. No English is left on the Korean
 * console (names aside), no Korean on the English one, nothing scrolls sideways at 390 px.
 * Screenshots of each state are kept in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitForParleyState } from '../support/browser.js';
import { callFrom, createAgent, createEntryPoint, PASSWORD } from '../support/consultation.js';
import { assertNoHorizontalOverflow, DESKTOP, englishWordsIn, openIn, PHONE, shoot, signInOnPage, uiFixture, type Lang } from '../support/uiPages.js';
import { en } from '../../web-src/ui/text/en.js';
import { ko } from '../../web-src/ui/text/ko.js';

describe('agent console: the offer card and the call panel in both languages', { timeout: 180_000 }, () => {
  const f = uiFixture();

  const runs: Array<[Lang, typeof DESKTOP, string, string]> = [
    ['ko', DESKTOP, 'desktop', 'Seo Yuna'],
    ['ko', PHONE, '390', 'Han Jisoo'],
    ['en', DESKTOP, 'desktop', 'Jung Hana'],
    ['en', PHONE, '390', 'Choi Dahye'],
  ];
  for (const [lang, viewport, size, agentName] of runs) {
    test(`${lang}, ${size}: offer, then the call with mute and hold`, async () => {
      const t = lang === 'ko' ? ko : en;
      await createAgent(f.server.url, f.admin, agentName);
      const ep = await createEntryPoint(f.server.url, f.admin, lang === 'ko' ? '강남점' : 'Front desk');
      const { page, context } = await openIn(f.browser, `${f.server.url}/agent/`, lang, viewport);
      await signInOnPage(page, `${agentName.toLowerCase().replace(/\W+/g, '.')}@example.com`, PASSWORD);
      await waitForParleyState(page, 'ready');
      await page.click('#state-available');
      await page.waitForSelector('#agent-state[data-state="available"]');
      const customer = lang === 'ko' ? '이고객' : 'Jane Customer';
      const inquiry = lang === 'ko' ? '택배 문의' : 'Where is my parcel?';
      await callFrom(f.server.url, ep.entryToken, customer, '01012345678', inquiry);
      await waitForParleyState(page, 'offered');
      const offer = page.locator('#offer');
      assert.equal(await page.innerText('#offer-customer'), customer);
      // Per locale: national on a Korean page, international on an English one.
      assert.equal(await page.innerText('#offer-phone'), lang === 'ko' ? '010-1234-5678' : '+82 10 1234 5678');
      assert.equal(await page.innerText('#offer-inquiry'), inquiry);
      assert.match(await page.innerText('#offer-countdown'), /\d/);
      assert.ok((await offer.innerText()).includes(t.static['incoming-call']!));
      const names = (s: string) => s.replace(new RegExp(`${agentName}|${customer}|Front desk|Where is my parcel\\?`, 'g'), ' ');
      if (lang === 'ko') assert.deepEqual(await englishWordsIn(page, '#offer'), [], 'English left on the Korean offer card');
      else assert.doesNotMatch(names(await offer.innerText()), /[\uac00-\ud7a3]/);
      if (viewport === PHONE) await assertNoHorizontalOverflow(page, `console offer (${lang})`);
      await shoot(page, `ui-console-offer-${lang}-${size}`);

      await page.click('#accept');
      await waitForParleyState(page, 'in-call', 20_000);
      assert.equal(await page.innerText('#call-customer'), customer);
      assert.equal(await page.getAttribute('#call-status', 'data-status') !== null, true);
      await page.waitForFunction(() => /^\d+:\d\d$/.test(document.querySelector('#call-timer')?.textContent ?? ''));
      assert.equal(await page.innerText('#mute'), t.console.mute);
      await page.click('#mute');
      await page.waitForFunction((label) => document.querySelector('#mute')?.textContent === label, t.console.unmute, { timeout: 5000 });
      await page.click('#hold');
      await page.locator('#hold-note').waitFor({ timeout: 5000 });
      assert.equal(await page.innerText('#hold'), t.console.resume);
      const panel = await page.innerText('#call-panel');
      if (lang === 'ko') assert.deepEqual((names(panel).match(/\b[A-Za-z]{3,}\b/g) ?? []).filter((w) => !['Parley'].includes(w)), [], 'English left in the Korean call panel');
      else assert.doesNotMatch(names(panel), /[\uac00-\ud7a3]/);
      if (viewport === PHONE) await assertNoHorizontalOverflow(page, `console call (${lang})`);
      await shoot(page, `ui-console-in-call-${lang}-${size}`);
      await page.click('#hold');
      await page.locator('#hold-note').waitFor({ state: 'detached', timeout: 5000 });
      await page.click('#end');
      await waitForParleyState(page, 'wrap-up', 10_000);
      await page.click('#state-offline');
      await page.waitForSelector('#agent-state[data-state="offline"]');
      await context.close();
    });
  }
});
