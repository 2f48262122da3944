/** Which joins turn captions on, and who a caption's speaker is (src/captions/captionWiring.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Identity } from '../src/auth/identity.js';
import { captionsWanted, speakerOf } from '../src/captions/captionWiring.js';

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
});
