/** The end-of-turn check: a caller in the middle of a phone number or an email address gets the longer wait. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endOfTurnDelay, looksUnfinished } from '../src/agent/endOfTurn.js';

const e = { minDelayMs: 300, maxDelayMs: 2000 };

test('a dictated phone number or email address, or a trailing connective, waits the longest delay', () => {
  for (const t of ['my number is 010 1234', 'call me at 010-1234-', 'it is five five five one two', 'my email is kim at', 'kim at example dot', 'kim@', '제 번호는 공일공 일이삼사', '이메일은 kim 골뱅이', 'kim 골뱅이 naver 점', '배송이 늦었고 그리고', 'I want to change my order and']) {
    assert.equal(looksUnfinished(t), true, t);
    assert.equal(endOfTurnDelay(t, e), 2000, t);
  }
});

test('a finished question or sentence is answered after the short delay', () => {
  for (const t of ['when do you open', 'I want a refund.', '영업 시간이 어떻게 되나요', '환불하고 싶어요', '택배가 아직 안 왔어', '만점', 'my number is 010 1234 5678, please call me back', '']) {
    assert.equal(looksUnfinished(t), false, t);
    assert.equal(endOfTurnDelay(t, e), 300, t);
  }
});
