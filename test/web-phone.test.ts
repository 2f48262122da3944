/**
 * Phone numbers on the staff pages (issue 15): Korean numbers are written as Koreans write them
 * before libphonenumber-js (a lazily loaded chunk) is there, and the same once it is; timeline
 * details carry the formatted number. No browser: the module only needs `navigator` for its language.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

Object.defineProperty(globalThis, 'navigator', { value: { languages: ['ko-KR'], language: 'ko-KR' }, configurable: true });
const { formatPhone, koreanNational, loadPhoneFormat, phoneFormatReady, withFormattedPhone } = await import('../web-src/ui/phone.js');
const { setLang } = await import('../web-src/ui/i18n.js');

const cases: Array<[string, string, string]> = [
  // raw, Korean page, English page
  ['+821012345678', '010-1234-5678', '+82 10 1234 5678'],
  ['01098765432', '010-9876-5432', '+82 10 9876 5432'],
  ['+8223456789', '02-345-6789', '+82 2 345 6789'],
  ['0312345678', '031-234-5678', '+82 31 234 5678'],
];

test('Korean numbers are formatted per language before and after libphonenumber-js loads, and the same both ways', async () => {
  assert.equal(phoneFormatReady.value, false);
  const before: string[] = [];
  for (const [raw, ko, en] of cases) {
    setLang('ko');
    before.push(formatPhone(raw));
    assert.equal(formatPhone(raw), ko, `${raw} on a Korean page, before the chunk`);
    setLang('en');
    assert.equal(formatPhone(raw), en, `${raw} on an English page, before the chunk`);
  }
  await loadPhoneFormat();
  assert.equal(phoneFormatReady.value, true);
  for (const [raw, ko, en] of cases) {
    setLang('ko');
    assert.equal(formatPhone(raw), ko, `${raw} on a Korean page, with libphonenumber-js`);
    setLang('en');
    assert.equal(formatPhone(raw), en, `${raw} on an English page, with libphonenumber-js`);
  }
  setLang('en');
  assert.equal(formatPhone('+14155550123'), '+1 415 555 0123');
  assert.equal(formatPhone('not a number'), 'not a number');
  assert.equal(formatPhone(null), '–');
});

test('a timeline detail gets its phone formatted and keeps the rest', () => {
  setLang('ko');
  assert.deepEqual(withFormattedPhone({ phone: '+821012345678', other: 1 }), { phone: '010-1234-5678', other: 1 });
  assert.equal(withFormattedPhone(null), null);
  assert.equal(koreanNational('12345'), undefined);
});
