/** Which joins turn captions on, and who a caption's speaker is (src/captions/captionWiring.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Identity } from '../src/auth/identity.js';
import { captionsOnJoin, captionsWanted, publishCaptionStatus, speakerOf, type CaptionStatusEvent } from '../src/captions/captionWiring.js';

const anonymous: Identity = { userId: 'guest-1', role: 'customer', user: { id: 'guest-1', role: 'customer', verified: false }, grant: { kind: 'anonymous' } };
const roomHolder: Identity = { userId: 'bob', role: 'customer', name: 'Bob', user: { id: 'bob', role: 'customer', verified: true }, grant: { kind: 'room', room: 'hall', issuer: 'parley' } };
const agent: Identity = { userId: 'a1', role: 'agent', name: 'Dana', user: { id: 'a1', role: 'agent', verified: true }, grant: { kind: 'account', sessionId: 's' } };

describe('captions wiring', () => {
  const settings = { consultations: true, allRooms: false };

  test("an anonymous peer cannot spend the speech engine on an open room; a credentialed one can ask", () => {
    assert.equal(captionsWanted(settings, { consultationId: null }, anonymous, { captions: true }), false);
    assert.equal(captionsWanted(settings, { consultationId: null }, roomHolder, { captions: true }), true);
    assert.equal(captionsWanted(settings, { consultationId: null }, roomHolder, { captions: false }), false);
    assert.equal(captionsWanted({ consultations: true, allRooms: true }, { consultationId: null }, anonymous, { captions: false }), true, 'unless the operator captions every room');
  });

  test('consultations follow the server setting, whoever joins', () => {
    assert.equal(captionsWanted(settings, { consultationId: 'c1' }, anonymous, { captions: false }), true);
    assert.equal(captionsWanted({ consultations: false, allRooms: true }, { consultationId: 'c1' }, agent, { captions: true }), false);
  });

  test("the speaker's role comes from the consultation seat, the name from the credential", () => {
    const dir = { identityOf: (p: string) => (p === 'peer-a' ? agent : p === 'peer-b' ? roomHolder : undefined), consultationOf: (r: string) => (r === 'call-c1' ? 'c1' : undefined), seatOf: (_c: string, who: Identity) => (who === agent ? ('agent' as const) : ('observer' as const)) };
    assert.deepEqual(speakerOf(dir, 'call-c1', 'peer-a'), { userId: 'a1', role: 'agent', name: 'Dana' });
    assert.deepEqual(speakerOf(dir, 'call-c1', 'peer-b'), { userId: 'bob', role: 'participant', name: 'Bob' });
    assert.deepEqual(speakerOf(dir, 'hall', 'peer-a'), { userId: 'a1', role: 'participant', name: 'Dana' }, 'open rooms have participants');
    assert.equal(speakerOf(dir, 'hall', 'nobody'), undefined);
  });

  test("an entry point's setting decides for its consultations; inherit follows the server", () => {
    const off = { consultations: false, allRooms: false };
    assert.equal(captionsWanted(settings, { consultationId: 'c1', entryPointCaptions: 'off' }, agent, { captions: true }), false, 'off wins over the server default and the request');
    assert.equal(captionsWanted(off, { consultationId: 'c1', entryPointCaptions: 'on' }, anonymous, { captions: false }), true, 'on wins over a server that captions nothing');
    assert.equal(captionsWanted(off, { consultationId: 'c1', entryPointCaptions: 'inherit' }, agent, { captions: true }), false);
    assert.equal(captionsWanted(settings, { consultationId: 'c1', entryPointCaptions: 'inherit' }, agent, { captions: false }), true);
  });

  test('a join says why there are no captions: off, or no engine; an open room nobody asked to caption hears nothing', () => {
    const ready = { configured: true, ready: true };
    assert.deepEqual(captionsOnJoin(settings, ready, { consultationId: 'c1' }, agent, { captions: false }), { enable: true });
    assert.deepEqual(captionsOnJoin(settings, { configured: true, ready: false }, { consultationId: 'c1' }, agent, { captions: false }), { enable: false, announce: { available: false, reason: 'no_engine' } });
    assert.deepEqual(captionsOnJoin(settings, { configured: false, ready: false }, { consultationId: 'c1' }, agent, { captions: false }), { enable: false, announce: { available: false, reason: 'off' } });
    assert.deepEqual(captionsOnJoin(settings, ready, { consultationId: 'c1', entryPointCaptions: 'off' }, agent, { captions: false }), { enable: false, announce: { available: false, reason: 'off' } });
    assert.deepEqual(captionsOnJoin(settings, ready, { consultationId: null }, roomHolder, { captions: false }), { enable: false });
    assert.deepEqual(captionsOnJoin(settings, ready, { consultationId: null }, anonymous, { captions: true }), { enable: false, announce: { available: false, reason: 'off' } }, 'an anonymous request is refused, and told');
  });

  test("the status reaches the room, and a consultation's pages and admins", () => {
    const got: Array<[string, CaptionStatusEvent]> = [];
    const audience = { room: (_r: string, e: CaptionStatusEvent) => got.push(['room', e]), consultation: (_c: string, e: CaptionStatusEvent) => got.push(['consultation', e]), admins: (_c: string, e: CaptionStatusEvent) => got.push(['admins', e]) };
    publishCaptionStatus(audience, 'call-c1', { available: false, reason: 'engine_failed', engine: 'openai' }, 'c1');
    assert.deepEqual(got.map(([to]) => to), ['room', 'consultation', 'admins']);
    assert.deepEqual(got[0]![1], { available: false, reason: 'engine_failed', engine: 'openai', roomId: 'call-c1', consultationId: 'c1' });
    got.length = 0;
    publishCaptionStatus(audience, 'hall', { available: true }, null);
    assert.deepEqual(got, [['room', { available: true, roomId: 'hall' }]]);
  });
});
