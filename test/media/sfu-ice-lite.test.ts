/**
 * The SFU's ICE-lite agent as a STUN peer sees it: a Binding request signed with the
 * transport's ICE password is answered (XOR-MAPPED-ADDRESS, integrity with the same key);
 * one with a wrong password, or for another transport's username, gets no answer.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Message, parseMessage } from 'werift';
import { startParley, type RunningParley } from '../support/parleyServer.js';

function bindingRequest(username: string, password: string): Buffer {
  const m = new Message(0x0001, 0x0000, randomBytes(12));
  m.setAttribute('USERNAME', username).setAttribute('PRIORITY', 1853824767).setAttribute('ICE-CONTROLLING', 1234n).addMessageIntegrity(Buffer.from(password)).addFingerprint();
  return m.bytes;
}

function ask(port: number, request: Buffer, waitMs = 700): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, waitMs);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.send(request, port, '127.0.0.1');
  });
}

describe('SFU transport: ICE-lite STUN answers', { timeout: 30_000 }, () => {
  let server: RunningParley;
  before(async () => {
    server = await startParley({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
  });
  after(() => server?.close());

  test('answers only requests signed with the transport password', async () => {
    const room = await server.parley.media.room('stun-room');
    const params = await room.createTransport('peer-1');
    assert.equal(params.iceParameters.iceLite, true);
    assert.equal(params.iceCandidates.length, 1);
    const { port, address, ip, protocol, type } = params.iceCandidates[0]!;
    assert.deepEqual({ address, ip, protocol, type }, { address: '127.0.0.1', ip: '127.0.0.1', protocol: 'udp', type: 'host' });
    assert.equal(params.dtlsParameters.role, 'auto');
    assert.match(params.dtlsParameters.fingerprints[0]!.value, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    const { usernameFragment, password } = params.iceParameters;
    const good = await ask(port, bindingRequest(`${usernameFragment}:browser`, password));
    assert.ok(good, 'a correctly signed request is answered');
    const response = parseMessage(good, Buffer.from(password));
    assert.ok(response, 'the answer carries MESSAGE-INTEGRITY with the transport password');
    assert.equal(response.messageClass, 0x0100);

    assert.equal(await ask(port, bindingRequest(`${usernameFragment}:browser`, 'not-the-password-at-all')), undefined, 'wrong password: no answer');
    assert.equal(await ask(port, bindingRequest(`zzzz:browser`, password)), undefined, 'another username: no answer');
  });
});
