/**
 * The voice room page (web/voice/index.html), built on stock mediasoup-client and
 * socket.io-client against seed 000's `/voice` protocol. Bundled by esbuild
 * (`npm run build:web`) into web/voice/voice-room.js.
 *
 * Query: ?room=<id>&user=<name>[&video=1][&token=<jwt>]
 * Tests read `window.voice` (device, transports, producers, consumers, peers, log).
 */
import { Device } from 'mediasoup-client';
import type { Consumer, Producer, Transport } from 'mediasoup-client/types';
import { io } from 'socket.io-client';

interface PeerView {
  peerId: string;
  userId: string;
  volume: number;
  speaking: boolean;
  el: HTMLElement;
}

const qs = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const state = {
  roomId: '',
  userId: '',
  peerId: '',
  device: undefined as Device | undefined,
  sendTransport: undefined as Transport | undefined,
  recvTransport: undefined as Transport | undefined,
  producers: new Map<string, Producer>(),
  consumers: new Map<string, Consumer>(),
  peers: new Map<string, PeerView>(),
  consumed: new Set<string>(),
  pending: [] as Array<{ peerId: string; producerId: string }>,
  events: [] as Array<{ event: string; data: unknown; at: number }>,
  errors: [] as string[],
  joined: false,
  closedReason: undefined as string | undefined,
  /** Sends one `/voice` request and resolves with its ack (for integrations and tests). */
  request: (event: string, data: unknown): Promise<unknown> => request(event, data),
};
(window as unknown as { voice: typeof state }).voice = state;

const socket = io('/voice', {
  transports: ['websocket'],
  auth: { userId: qs.get('user') ?? undefined, token: qs.get('token') ?? undefined },
  autoConnect: false,
});

function record(event: string, data: unknown): void {
  state.events.push({ event, data, at: Date.now() });
}

function fail(where: string, err: unknown): void {
  const msg = `${where}: ${err instanceof Error ? err.message : String(err)}`;
  state.errors.push(msg);
  $('status').textContent = msg;
}

async function request<T>(event: string, data: unknown): Promise<T> {
  const res = (await socket.emitWithAck(event, data)) as { error?: { code: string; message: string } } & T;
  if (res && typeof res === 'object' && 'error' in res && res.error) throw new Error(`${event}: ${res.error.message}`);
  return res;
}

function peerView(peerId: string, userId: string): PeerView {
  let p = state.peers.get(peerId);
  if (!p) {
    const el = document.createElement('li');
    el.className = 'peer';
    el.dataset.peerId = peerId;
    el.innerHTML = `<span class="name"></span><span class="meter"><span class="level"></span></span>`;
    (el.querySelector('.name') as HTMLElement).textContent = userId + (peerId === state.peerId ? ' (you)' : '');
    $('peers').appendChild(el);
    p = { peerId, userId, volume: -127, speaking: false, el };
    state.peers.set(peerId, p);
  }
  return p;
}

function showLevel(peerId: string, volume: number): void {
  const p = state.peers.get(peerId);
  if (!p) return;
  p.volume = volume;
  // -127 dBov (silence) … 0 dBov (loudest) → 0 … 100 %
  const pct = Math.max(0, Math.min(100, ((volume + 70) / 70) * 100));
  (p.el.querySelector('.level') as HTMLElement).style.width = `${pct}%`;
}

async function consume(peerId: string, producerId: string): Promise<void> {
  if (state.consumed.has(producerId) || peerId === state.peerId) return;
  if (!state.recvTransport || !state.device) {
    state.pending.push({ peerId, producerId });
    return;
  }
  state.consumed.add(producerId);
  const params = await request<{ id: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: never }>('consume', {
    roomId: state.roomId,
    transportId: state.recvTransport.id,
    producerId,
    rtpCapabilities: state.device.rtpCapabilities,
  });
  const consumer = await state.recvTransport.consume({ id: params.id, producerId: params.producerId, kind: params.kind, rtpParameters: params.rtpParameters, appData: { peerId } });
  state.consumers.set(consumer.id, consumer);
  const media = document.createElement(consumer.kind === 'video' ? 'video' : 'audio');
  media.autoplay = true;
  media.muted = false;
  media.setAttribute('playsinline', '');
  media.dataset.consumerId = consumer.id;
  media.srcObject = new MediaStream([consumer.track]);
  (consumer.kind === 'video' ? $('videos') : $('audios')).appendChild(media);
  media.play().catch(() => ($('unlock').hidden = false));
  consumer.on('trackended', () => closeConsumer(consumer.id));
}

function closeConsumer(consumerId: string): void {
  const c = state.consumers.get(consumerId);
  if (!c) return;
  c.close();
  state.consumers.delete(consumerId);
  document.querySelector(`[data-consumer-id="${consumerId}"]`)?.remove();
}

async function join(roomId: string, userId: string, withVideo: boolean): Promise<void> {
  state.roomId = roomId;
  state.userId = userId;
  $('status').textContent = 'joining…';
  socket.connect();
  const joined = await request<{ rtpCapabilities: never; peerId: string; peers: Array<{ peerId: string; userId: string }>; producers: Array<{ peerId: string; producerId: string }> }>(
    'join-room',
    { roomId, userId },
  );
  state.peerId = joined.peerId;
  peerView(state.peerId, userId);
  for (const p of joined.peers) peerView(p.peerId, p.userId);
  state.pending.push(...joined.producers);

  const device = new Device();
  await device.load({ routerRtpCapabilities: joined.rtpCapabilities });
  state.device = device;

  const sendParams = await request<never>('create-transport', { roomId, direction: 'send' });
  const send = device.createSendTransport(sendParams);
  send.on('connect', ({ dtlsParameters }, ok, ko) => void request('connect-transport', { roomId, transportId: send.id, dtlsParameters }).then(() => ok(), ko));
  send.on('produce', ({ kind, rtpParameters }, ok, ko) => void request<{ id: string }>('produce', { roomId, transportId: send.id, kind, rtpParameters }).then(ok, ko));
  state.sendTransport = send;

  const recvParams = await request<never>('create-transport', { roomId, direction: 'recv' });
  const recv = device.createRecvTransport(recvParams);
  recv.on('connect', ({ dtlsParameters }, ok, ko) => void request('connect-transport', { roomId, transportId: recv.id, dtlsParameters }).then(() => ok(), ko));
  state.recvTransport = recv;

  for (const p of state.pending.splice(0)) await consume(p.peerId, p.producerId).catch((e: unknown) => fail('consume', e));

  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: withVideo });
  for (const track of stream.getTracks()) {
    const producer = await send.produce({ track });
    state.producers.set(producer.kind, producer);
    if (producer.kind === 'video') {
      const self = document.createElement('video');
      self.muted = true;
      self.autoplay = true;
      self.srcObject = new MediaStream([track]);
      $('videos').appendChild(self);
    }
  }
  state.joined = true;
  $('status').textContent = `in room ${roomId}`;
  $('controls').hidden = false;
  $('join').hidden = true;
}

socket.on('peer-joined', (d: { peerId: string; userId: string }) => {
  record('peer-joined', d);
  peerView(d.peerId, d.userId);
});
socket.on('peer-left', (d: { peerId: string }) => {
  record('peer-left', d);
  state.peers.get(d.peerId)?.el.remove();
  state.peers.delete(d.peerId);
});
socket.on('new-producer', (d: { peerId: string; producerId: string }) => {
  record('new-producer', d);
  consume(d.peerId, d.producerId).catch((e: unknown) => fail('consume', e));
});
socket.on('consumer-closed', (d: { consumerId: string }) => {
  record('consumer-closed', d);
  closeConsumer(d.consumerId);
});
socket.on('producer-paused', (d: { peerId: string }) => {
  record('producer-paused', d);
  state.peers.get(d.peerId)?.el.classList.add('muted');
});
socket.on('producer-resumed', (d: { peerId: string }) => {
  record('producer-resumed', d);
  state.peers.get(d.peerId)?.el.classList.remove('muted');
});
socket.on('audio-levels', (d: { levels: Array<{ peerId: string; volume: number }> }) => {
  record('audio-levels', d);
  for (const l of d.levels) showLevel(l.peerId, l.volume);
});
socket.on('active-speaker', (d: { peerId: string }) => {
  record('active-speaker', d);
  for (const p of state.peers.values()) p.el.classList.toggle('speaking', p.peerId === d.peerId);
});
socket.on('room-closed', (d: { reason: string }) => {
  record('room-closed', d);
  state.closedReason = d.reason;
  $('status').textContent = `the room ended (${d.reason}); join again to continue`;
  for (const id of [...state.consumers.keys()]) closeConsumer(id);
  state.sendTransport?.close();
  state.recvTransport?.close();
});
socket.on('error', (d: { event: string; message: string }) => fail(d.event, d.message));

$('mute').addEventListener('click', () => {
  const mic = state.producers.get('audio');
  if (!mic) return;
  const pause = !mic.paused;
  if (pause) mic.pause();
  else mic.resume();
  void request(pause ? 'pause-producer' : 'resume-producer', { roomId: state.roomId, producerId: mic.id }).catch((e: unknown) => fail('mute', e));
  $('mute').textContent = pause ? 'Unmute' : 'Mute';
});
$('leave').addEventListener('click', () => {
  void request('leave-room', { roomId: state.roomId }).finally(() => location.assign(location.pathname));
});
$('unlock').addEventListener('click', () => {
  for (const m of document.querySelectorAll<HTMLMediaElement>('audio,video')) void m.play();
  $('unlock').hidden = true;
});
$('join-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const room = ($('room-input') as HTMLInputElement).value.trim();
  const user = ($('user-input') as HTMLInputElement).value.trim() || 'guest';
  if (room) location.assign(`${location.pathname}?room=${encodeURIComponent(room)}&user=${encodeURIComponent(user)}`);
});

const room = qs.get('room');
if (room) join(room, qs.get('user') ?? 'guest', qs.get('video') === '1').catch((e: unknown) => fail('join', e));
