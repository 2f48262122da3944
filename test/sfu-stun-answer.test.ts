/**
 * The SFU answers consent checks on a nominated pair itself (src/sfu/stunAnswer.ts): the answer
 * must be the bytes werift's own answer has (XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT),
 * pass werift's integrity check with the transport's password (as the browser checks it), and
 * fail it with another password or a changed byte.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Message, parseMessage } from 'werift';
import { BINDING_SUCCESS_LENGTH, bindingSuccess, canAnswer, xorMappedIpv4 } from '../src/sfu/stunAnswer.js';

describe('a consent check answered without werift', () => {
  test("werift's bytes, for addresses and ports across the range", () => {
    const password = Buffer.from('a'.repeat(12) + randomBytes(6).toString('hex'), 'utf8');
    for (const [host, port] of [['127.0.0.1', 40000], ['10.255.77.1', 1], ['192.168.201.255', 65535], ['0.0.0.0', 0x2112], ['255.255.255.255', 9]] as const) {
      assert.equal(canAnswer(host), true);
      const transactionId = randomBytes(12);
      const theirs = new Message(1, 256, transactionId).setAttribute('XOR-MAPPED-ADDRESS', [host, port]).addMessageIntegrity(password).addFingerprint().bytes;
      const mine = bindingSuccess(transactionId, xorMappedIpv4(host, port), password);
      assert.equal(mine.length, BINDING_SUCCESS_LENGTH);
      assert.equal(mine.toString('hex'), theirs.toString('hex'), `${host}:${port}`);
      const parsed = parseMessage(mine, password);
      assert.ok(parsed, 'passes MESSAGE-INTEGRITY and FINGERPRINT with the password');
      assert.deepEqual(parsed.getAttributeValue('XOR-MAPPED-ADDRESS'), [host, port]);
      assert.equal(parseMessage(mine, Buffer.from('another-password-000000', 'utf8')), undefined, 'fails with another password');
      for (const i of [3, 9, 25, 40, 61]) {
        const changed = Buffer.from(mine);
        changed[i] = changed[i]! ^ 0x10;
        assert.equal(parseMessage(changed, password), undefined, `a changed byte ${i} passes`);
      }
    }
  });

  test('an IPv6 peer is left to werift', () => {
    assert.equal(canAnswer('::1'), false);
    assert.equal(canAnswer('fe80::1'), false);
  });
});
