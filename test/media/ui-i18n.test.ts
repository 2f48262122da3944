/**
 * The Korean and English tables have the same keys, all the way down (issue 15): the compiler
 * checks the shape of fixed objects, this test also checks the open records (causes, errors,
 * the HTML pages' `data-i18n` texts) and that every `data-i18n` key used in web/**.html exists.
 * No browser: the tables are plain modules (the `ui/i18n.ts` signals are not imported).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { en } from '../../web-src/ui/text/en.js';
import { ko } from '../../web-src/ui/text/ko.js';

function keys(v: unknown, prefix = ''): string[] {
  if (typeof v === 'function') return [`${prefix}()`];
  if (v === null || typeof v !== 'object') return [prefix];
  return Object.keys(v as object)
    .sort()
    .flatMap((k) => keys((v as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
}

test('the English and Korean tables have exactly the same keys', () => {
  const a = new Set(keys(en));
  const b = new Set(keys(ko));
  assert.deepEqual([...a].filter((k) => !b.has(k)), [], 'keys only in English');
  assert.deepEqual([...b].filter((k) => !a.has(k)), [], 'keys only in Korean');
  assert.ok(a.size > 300, `the tables cover the pages (${a.size} keys)`);
});

test('no Korean sentence is left in English, and no English one in Korean', () => {
  const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : []);
  const hangul = /[\uac00-\ud7a3]/;
  const inEnglish = strings(en).filter((s) => hangul.test(s) && s !== '한국어');
  assert.deepEqual(inEnglish, []);
  // Korean strings with no Hangul are names, codes or punctuation only.
  const latinOnly = strings(ko).filter((s) => /[a-z]{4,}/.test(s) && !hangul.test(s));
  assert.deepEqual(latinOnly.filter((s) => !['English', 'Parley', 'URL'].includes(s)), []);
});

test('functions give sentences in both languages', () => {
  assert.equal(en.transfer.done('Kim'), 'The call was transferred to Kim.');
  assert.match(ko.transfer.done('김민지'), /김민지/);
  assert.equal(en.codes.agentsAvailable(2), '2 agents are free to take a call.');
  assert.equal(ko.codes.agentsAvailable(2), '2명의 상담원이 전화를 받을 수 있습니다.');
  assert.notEqual(en.codes.transition('ENDED', 'customer-hung-up'), ko.codes.transition('ENDED', 'customer-hung-up'));
});

test('every data-i18n key in the HTML pages has a text in both languages', () => {
  const html: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.html')) html.push(join(dir, e.name));
    }
  };
  walk('web');
  const used = new Set<string>();
  for (const f of html) for (const m of readFileSync(f, 'utf8').matchAll(/data-i18n(?:-placeholder|-title|-aria-label|-alt)?="([^"]+)"/g)) used.add(m[1]!);
  assert.ok(used.size > 100, `${used.size} keys used`);
  assert.deepEqual([...used].filter((k) => en.static[k] === undefined), [], 'missing in English');
  assert.deepEqual([...used].filter((k) => ko.static[k] === undefined), [], 'missing in Korean');
});
