/**
 * The voice room page (web/voice/index.html) against seed 000's `/voice` protocol. The media
 * (join-room, transports, produce, consume, pause) is CallMedia's, shared with the
 * consultation pages; this page draws the room: one row per peer with its level meter, the
 * active speaker, who is muted. Bundled by esbuild (`npm run build:web`) into
 * web/voice/voice-room.js.
 *
 * Query: ?room=<id>&user=<name>[&video=1][&token=<jwt>]
 * Tests read `window.voice` (device, transports, producers, consumers, peers, events, errors…).
 */
import type { Consumer, Producer } from 'mediasoup-client/types';
import { CallMedia } from './lib/callMedia.js';
import { PeerList, peerRows, selfPeerId, type PeerRow } from './pages/voice/PeerList.js';
import { createElement, render } from 'preact';
import { signal } from '@preact/signals';
import { applyStaticText, onLanguage, text } from './ui/i18n.js';
import { LanguageSwitch } from './ui/LanguageSwitch.js';

const qs = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let media: CallMedia | undefined;
/** The status line as a sentence of the current language (redrawn on a switch); an error's text as it came. */
const status = signal<((t: typeof text.value) => string) | undefined>(undefined);
const say = (line: (t: typeof text.value) => string): void => {
  status.value = line;
};
const noProducers = new Map<string, Producer>();
const noConsumers = new Map<string, Consumer>();

const state = {
  roomId: '',
  userId: '',
  get peerId(): string {
    return media?.peerId ?? '';
  },
  get device() {
    return media?.device;
  },
  get sendTransport() {
    return media?.sendTransport;
  },
  get recvTransport() {
    return media?.recvTransport;
  },
  /** Producers by kind ('audio', 'video'). */
  get producers(): Map<string, Producer> {
    return media?.producers ?? noProducers;
  },
  /** Consumers by id; `appData.peerId` is the peer whose producer each one receives. */
  get consumers(): Map<string, Consumer> {
    return media?.consumers ?? noConsumers;
  },
  /** Everyone in the room, this page included. */
  peers: new Map<string, PeerRow>(),
  events: [] as Array<{ event: string; data: unknown; at: number }>,
  errors: [] as string[],
  get joined(): boolean {
    return media?.joined ?? false;
  },
  closedReason: undefined as string | undefined,
  /** Sends one `/voice` request and resolves with its ack (for integrations and tests). */
  request: (event: string, data: unknown): Promise<unknown> => (media ? media.request(event, data) : Promise.reject(new Error('not in a room'))),
};
(window as unknown as { voice: typeof state }).voice = state;

function fail(where: string, err: unknown): void {
  const msg = `${where}: ${err instanceof Error ? err.message : String(err)}`;
  state.errors.push(msg);
  say(() => msg);
}

/** Redraws the list from `state.peers` (the view's rows are copies, so signals see a change). */
function showPeers(): void {
  selfPeerId.value = state.peerId;
  peerRows.value = [...state.peers.values()].map((p) => ({ ...p }));
}

function addPeer(peerId: string, userId: string): void {
  if (!state.peers.has(peerId)) state.peers.set(peerId, { peerId, userId, volume: -127, speaking: false, muted: false });
}

function updatePeer(peerId: string, change: Partial<Omit<PeerRow, 'peerId' | 'userId'>>): void {
  const p = state.peers.get(peerId);
  if (p) Object.assign(p, change);
}

/**
 * A muted peer is silent from this instant: its bar empties and it is no longer the speaker.
 * The server sends no more levels for a paused producer (src/sfu/audioLevelObserver.ts skips
 * it, and sends nothing at all when everyone is muted), so waiting for the next level update
 * would leave the last bar and the speaking border up for as long as the mute lasts.
 */
function setMuted(peerId: string, muted: boolean): void {
  // Unmuted, the border comes back if the server still names this peer the speaker: it does
  // not announce the same speaker again.
  updatePeer(peerId, muted ? { muted, volume: -127, speaking: false } : { muted, speaking: peerId === lastSpeaker });
}
/** The peer the server last named the active speaker. */
let lastSpeaker: string | undefined;

/** 'audio' or 'video' for a producer this page sends or receives; undefined while it is not consumed yet. */
function producerKind(producerId: string): string | undefined {
  for (const [kind, p] of state.producers) if (p.id === producerId) return kind;
  for (const c of state.consumers.values()) if (c.producerId === producerId) return c.kind;
  return undefined;
}

async function join(roomId: string, userId: string, withVideo: boolean): Promise<void> {
  state.roomId = roomId;
  state.userId = userId;
  say((t) => t.voiceRoom.joining);
  media = new CallMedia({
    roomId,
    userId,
    authUserId: qs.get('user') ?? undefined,
    token: qs.get('token') ?? undefined,
    video: withVideo,
    remote: $('audios'),
    remoteVideo: $('videos'),
    local: $('videos'),
    onEvent: (event, data) => state.events.push({ event, data, at: Date.now() }),
    onError: fail,
    onAutoplayBlocked: () => ($('unlock').hidden = false),
    onRoomJoined: ({ peerId, peers }) => {
      addPeer(peerId, userId);
      for (const p of peers) addPeer(p.peerId, p.userId);
      showPeers();
    },
    onPeerJoined: (p) => {
      addPeer(p.peerId, p.userId);
      showPeers();
    },
    onPeerLeft: (peerId) => {
      state.peers.delete(peerId);
      showPeers();
    },
    onProducerPauseChange: (peerId, producerId, paused) => {
      // A camera turned off is not a mute (a producer not consumed yet is taken for the microphone, as before).
      if (producerKind(producerId) === 'video') return;
      setMuted(peerId, paused);
      showPeers();
    },
    onAudioLevels: (levels) => {
      // A level sent just before the mute arrives after it: a muted row stays empty.
      for (const l of levels) if (!state.peers.get(l.peerId)?.muted) updatePeer(l.peerId, { volume: l.volume });
      showPeers();
    },
    onActiveSpeaker: (peerId) => {
      lastSpeaker = peerId;
      for (const p of state.peers.values()) p.speaking = p.peerId === peerId && !p.muted;
      showPeers();
    },
    onRoomClosed: (reason) => {
      state.closedReason = reason;
      say((t) => t.voiceRoom.roomEnded(reason));
    },
    onClosed: (reason) => {
      if (state.closedReason === undefined) say((t) => t.voiceRoom.closed(reason));
    },
  });
  await media.join();
  say((t) => t.voiceRoom.inRoom(roomId));
  $('controls').hidden = false;
  $('join').hidden = true;
}

render(createElement(PeerList, {}), $('peers'));
// The same header switch as the other pages; the peer list and drawTexts follow it.
render(createElement(LanguageSwitch, {}), $('lang-switch'));

/** Every text of the page in the current language: the fixed ones, the status line, the mute button. */
function drawTexts(): void {
  const t = text.value;
  applyStaticText();
  $('status').textContent = status.value ? status.value(t) : '';
  $('mute').textContent = media?.muted ? t.voiceRoom.unmute : t.voiceRoom.mute;
}
onLanguage(drawTexts);
status.subscribe(drawTexts);

$('mute').addEventListener('click', () => {
  if (!media?.producers.has('audio')) return;
  const muting = !media.muted;
  // The own row goes quiet at the click, not only when the server's producer-paused comes back.
  if (muting) {
    setMuted(state.peerId, true);
    showPeers();
  }
  void media.mute(muting).finally(drawTexts);
  drawTexts();
});
$('leave').addEventListener('click', () => {
  void (media?.leave() ?? Promise.resolve()).finally(() => location.assign(location.pathname));
});
$('unlock').addEventListener('click', () => {
  media?.unlockAudio();
  $('unlock').hidden = true;
});
$('join-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const room = ($('room-input') as HTMLInputElement).value.trim();
  const user = ($('user-input') as HTMLInputElement).value.trim() || text.value.static['guest'] || 'guest';
  if (room) location.assign(`${location.pathname}?room=${encodeURIComponent(room)}&user=${encodeURIComponent(user)}`);
});

const room = qs.get('room');
if (room) join(room, qs.get('user') ?? 'guest', qs.get('video') === '1').catch((e: unknown) => fail('join', e));
