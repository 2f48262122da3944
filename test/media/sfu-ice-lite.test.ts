/**
 * The SFU's ICE-lite agent as a STUN peer sees it: a Binding request signed with the
 * transport's ICE password is answered (XOR-MAPPED-ADDRESS, integrity with the same key);
 * one with a wrong password, or for another transport's username, gets no answer. A DTLS
 * ClientHello that follows the first answered check (before any USE-CANDIDATE, as browsers
 * send it) is answered at once instead of being dropped until nomination. A ClientHello that
 * arrives while every handshake slot of the worker is taken is kept and answered when a slot
 * frees, without the client having to send it again; a byte-identical copy that arrives right
 * after (a werift client's retransmission) gets no second HelloVerifyRequest.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Message, parseMessage } from 'werift';
import { startParley, type RunningParley } from '../support/parleyServer.js';

function bindingRequest(username: string, password: string, useCandidate = false): Buffer {
  const m = new Message(0x0001, 0x0000, randomBytes(12));
  m.setAttribute('USERNAME', username).setAttribute('PRIORITY', 1853824767).setAttribute('ICE-CONTROLLING', 1234n);
  if (useCandidate) m.setAttribute('USE-CANDIDATE', null);
  m.addMessageIntegrity(Buffer.from(password)).addFingerprint();
  return m.bytes;
}

/** A DTLS 1.2 ClientHello as a WebRTC client sends it (ECDHE-ECDSA-AES128-GCM, P-256, use_srtp, EMS). */
function clientHello(): Buffer {
  const ext = (type: number, data: number[]) => [type >> 8, type & 0xff, data.length >> 8, data.length & 0xff, ...data];
  const extensions = [
    ...ext(0x000a, [0x00, 0x02, 0x00, 0x17]), // supported_groups: secp256r1
    ...ext(0x000b, [0x01, 0x00]), // ec_point_formats: uncompressed
    ...ext(0x000d, [0x00, 0x02, 0x04, 0x03]), // signature_algorithms: ecdsa_secp256r1_sha256
    ...ext(0x000e, [0x00, 0x02, 0x00, 0x07, 0x00]), // use_srtp: AEAD_AES_128_GCM
    ...ext(0x0017, []), // extended_master_secret
  ];
  const body = [0xfe, 0xfd, ...randomBytes(32), 0x00, 0x00, 0x00, 0x02, 0xc0, 0x2b, 0x01, 0x00, extensions.length >> 8, extensions.length & 0xff, ...extensions];
  const len = body.length;
  const handshake = [0x01, 0, len >> 8, len & 0xff, 0, 0, 0, 0, 0, 0, len >> 8, len & 0xff, ...body];
  return Buffer.from([0x16, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, handshake.length >> 8, handshake.length & 0xff, ...handshake]);
}

/** Sends one datagram from `socket` and resolves with the next datagram it receives (undefined: none in time). */
function answerTo(socket: ReturnType<typeof createSocket>, port: number, datagram: Buffer, waitMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      resolve(undefined);
    }, waitMs);
    const onMessage = (msg: Buffer) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(msg);
    };
    socket.on('message', onMessage);
    socket.send(datagram, port, '127.0.0.1');
  });
}

/** Sends each datagram in turn from one socket, resolving with the answer to each (undefined: none in time). */
async function exchange(port: number, datagrams: Buffer[], waitMs = 1500): Promise<Array<Buffer | undefined>> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const answers: Array<Buffer | undefined> = [];
  try {
    for (const d of datagrams) answers.push(await answerTo(socket, port, d, waitMs));
  } finally {
    socket.close();
  }
  return answers;
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

  test('a DTLS ClientHello right after the first answered check is answered, before any nomination', async () => {
    const room = await server.parley.media.room('dtls-room');
    const params = await room.createTransport('peer-2');
    const { usernameFragment, password } = params.iceParameters;
    await room.connectTransport('peer-2', params.id, { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:'.repeat(31) + 'AB' }] });
    const [check, hello] = await exchange(params.iceCandidates[0]!.port, [bindingRequest(`${usernameFragment}:browser`, password), clientHello()]);
    assert.ok(check && parseMessage(check, Buffer.from(password)), 'the check (no USE-CANDIDATE) is answered');
    assert.ok(hello, 'the ClientHello is answered, not dropped until a USE-CANDIDATE arrives');
    assert.equal(hello[0], 22, 'a DTLS handshake record');
    assert.equal(hello[13], 3, 'HelloVerifyRequest');
  });

  test('a ClientHello that waits for a handshake slot is answered when one frees, once', async () => {
    const room = await server.parley.media.room('admission-room');
    const fingerprints = [{ algorithm: 'sha-256' as const, value: 'AB:'.repeat(31) + 'AB' }];
    const open = async (peer: string) => {
      const params = await room.createTransport(peer);
      await room.connectTransport(peer, params.id, { role: 'client', fingerprints });
      const { usernameFragment, password } = params.iceParameters;
      return { port: params.iceCandidates[0]!.port, check: bindingRequest(`${usernameFragment}:browser`, password) };
    };
    // The worker admits 4 handshakes at once (webRtcTransport.ts); these 4 take the slots and
    // never finish (no client goes on), so each holds its slot for the 0.5 s hold.
    const holders = await Promise.all([1, 2, 3, 4].map((i) => open(`holder-${i}`)));
    const waiting = await open('waiter');
    const held = Promise.all(holders.map((h) => exchange(h.port, [h.check, clientHello()])));
    await new Promise((r) => setTimeout(r, 100));
    const hello = clientHello();
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const answers: Array<{ at: number; msg: Buffer }> = [];
    socket.on('message', (msg) => answers.push({ at: performance.now(), msg }));
    try {
      socket.send(waiting.check, waiting.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 50));
      const sentAt = performance.now();
      socket.send(hello, waiting.port, '127.0.0.1'); // sent once, never retransmitted
      const until = performance.now() + 3000;
      while (!answers.some((a) => a.msg[0] === 22) && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
      const first = answers.find((a) => a.msg[0] === 22);
      assert.ok(first, `the waiting ClientHello is answered once a slot frees, without a retransmission (answers: ${answers.length})`);
      assert.equal(first.msg[13], 3, 'HelloVerifyRequest');
      assert.ok(first.at - sentAt < 2500, `answered ${Math.round(first.at - sentAt)} ms after it was sent`);
      // A werift client's retransmission is the same datagram: no second HelloVerifyRequest.
      socket.send(hello, waiting.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(answers.filter((a) => a.msg[0] === 22).length, 1, 'a byte-identical copy right after is not answered again');
    } finally {
      socket.close();
      await held;
    }
  });

  test('after nomination, consent checks on the pair are answered (address, integrity, transaction), forged ones are not', async () => {
    const room = await server.parley.media.room('consent-room');
    const params = await room.createTransport('peer-consent');
    const { usernameFragment, password } = params.iceParameters;
    const port = params.iceCandidates[0]!.port;
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const next = (request: Buffer, waitMs = 700): Promise<Buffer | undefined> => answerTo(socket, port, request, waitMs);
    try {
      const nominating = await next(bindingRequest(`${usernameFragment}:browser`, password, true));
      assert.ok(nominating && parseMessage(nominating, Buffer.from(password)), 'the nominating check is answered');
      // Browsers put USE-CANDIDATE on every consent check to an ICE-lite peer; some checks without it.
      for (let i = 0; i < 4; i++) {
        const request = bindingRequest(`${usernameFragment}:browser`, password, i % 2 === 0);
        const answer = await next(request);
        assert.ok(answer, `consent check ${i} is answered`);
        const parsed = parseMessage(answer, Buffer.from(password));
        assert.ok(parsed, 'with MESSAGE-INTEGRITY and FINGERPRINT');
        assert.equal(parsed.messageClass, 0x0100);
        assert.equal(parsed.transactionId.toString('hex'), request.subarray(8, 20).toString('hex'), 'for that request');
        assert.deepEqual(parsed.getAttributeValue('XOR-MAPPED-ADDRESS'), ['127.0.0.1', socket.address().port]);
      }
      assert.equal(await next(bindingRequest(`${usernameFragment}:browser`, 'not-the-password-at-all')), undefined, 'wrong password on the nominated pair: no answer');
      assert.equal(await next(bindingRequest(`zzzz:browser`, password)), undefined, 'another username on the nominated pair: no answer');
    } finally {
      socket.close();
    }
    // From another address (not the nominated pair) a signed check is still answered (by werift's agent).
    const other = await ask(port, bindingRequest(`${usernameFragment}:browser`, password));
    assert.ok(other && parseMessage(other, Buffer.from(password)));
  });
});
