/**
 * The dashboard's recording switch on each entry card, in real Chromium with the Korean
 * dashboard: the card shows the setting the server keeps and the sentence that only consented
 * calls are ever recorded; changing it is saved (PUT /api/v1/entry-points/:id/recording) and
 * survives a reload. A screenshot is kept in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitForParleyState } from '../support/browser.js';
import { request } from '../support/parleyServer.js';
import { adminDashboard, createEntryOnPage, shoot, uiFixture } from '../support/uiPages.js';
import { ko } from '../../web-src/ui/text/ko.js';

describe('entry point recording switch on the dashboard', { timeout: 120_000 }, () => {
  const f = uiFixture();

  test('an admin turns recording off for one entry point; the server keeps it and the card shows it after a reload', async () => {
    const { page, context } = await adminDashboard(f, 'ko');
    const { card, id } = await createEntryOnPage(page, '녹음 없는 창구');
    const stored = async () => (await request(`${f.server.url}/api/v1/entry-points`, { token: f.admin.token })).body.entryPoints.find((e: { id: string }) => e.id === id).recording;

    const control = card.locator('.entry-recording');
    assert.equal((await control.locator('label').innerText()).trim(), ko.entryRecording.label);
    assert.equal((await control.locator('.consent-note').innerText()).trim(), ko.entryRecording.consentOnly);
    const select = control.locator('select.entry-recording-select');
    assert.equal(await select.inputValue(), 'inherit');
    assert.equal((await select.locator('option:checked').innerText()).trim(), ko.entryRecording.inherit);

    await select.selectOption('off');
    await control.locator('.saved', { hasText: ko.entryRecording.saved }).waitFor({ timeout: 10_000 });
    assert.equal(await stored(), 'off', 'the card changed it on the server');
    assert.equal(await control.getAttribute('data-recording'), 'off');
    await card.scrollIntoViewIfNeeded();
    await shoot(page, 'entry-recording-ko');

    await page.reload();
    await waitForParleyState(page, 'ready');
    await page.click('#nav-entry');
    const again = page.locator('#entries [data-entry-id]', { hasText: '녹음 없는 창구' }).locator('select.entry-recording-select');
    await again.waitFor({ timeout: 10_000 });
    assert.equal(await again.inputValue(), 'off', 'shown as the server keeps it');
    await context.close();
  });
});
