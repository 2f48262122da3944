/**
 * The AI call page (web/ai/index.html): try the AI assistant from a browser. It says plainly that the other side is
 * an AI, starts a call (`POST /api/v1/agent/calls`), joins the bot's room on `/voice` with the microphone, and shows
 * both sides' captions. Tests read `window.aiCall` (state, roomId, captions, the media's consumers).
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import { CallMedia } from '../lib/callMedia.js';
import { Banner, CaptionTrack, LanguageSwitch, mergeCaption, mount, type Caption } from '../ui/components.js';
import { lang, text } from '../ui/i18n.js';

type State = 'idle' | 'starting' | 'live' | 'ended' | 'failed';
const state = signal<State>('idle');
const captions = signal<Caption[]>([]);
let media: CallMedia | undefined;

const debug = {
  get state() {
    return state.value;
  },
  roomId: '',
  botPeerId: '',
  get captions() {
    return captions.value;
  },
  get consumers() {
    return media?.consumers;
  },
  errors: [] as string[],
};
(window as unknown as { aiCall: typeof debug }).aiCall = debug;

async function start(): Promise<void> {
  state.value = 'starting';
  try {
    const res = await fetch('/api/v1/agent/calls', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: lang.value }) });
    if (!res.ok) throw new Error(`agent/calls answered ${res.status}`);
    const { data } = (await res.json()) as { data: { roomId: string; botPeerId: string } };
    debug.roomId = data.roomId;
    debug.botPeerId = data.botPeerId;
    media = new CallMedia({
      roomId: data.roomId,
      authUserId: 'ai-caller',
      userId: 'caller',
      remote: document.getElementById('ai-audio')!,
      onCaption: (c) => {
        captions.value = mergeCaption(captions.value, c as Caption);
      },
      onError: (where, message) => debug.errors.push(`${where}: ${message}`),
      onClosed: () => {
        state.value = 'ended';
      },
    });
    await media.join();
    state.value = 'live';
  } catch (err) {
    debug.errors.push((err as Error).message);
    state.value = 'failed';
  }
}

async function hangUp(): Promise<void> {
  await media?.leave();
  state.value = 'ended';
}

function AiCall(): JSX.Element {
  const t = text.value.ai;
  const s = state.value;
  const named = captions.value.map((c) => (c.role === 'bot' ? { ...c, name: t.bot } : c));
  const list = signal(named);
  return (
    <>
      <header class="bar">
        <h1>{t.title}</h1>
        <span class="spacer" />
        <LanguageSwitch />
      </header>
      <main class="customer">
        <Banner tone="info" id="ai-notice">{t.notice}</Banner>
        <p id="ai-state" data-state={s}>
          {s === 'starting' ? t.starting : s === 'live' ? t.live : s === 'ended' ? t.ended : s === 'failed' ? t.failed : ''}
        </p>
        {(s === 'idle' || s === 'ended' || s === 'failed') && (
          <button type="button" id="ai-start" class="primary" onClick={() => void start()}>
            {t.start}
          </button>
        )}
        {s === 'live' && (
          <button type="button" id="ai-hangup" class="danger" onClick={() => void hangUp()}>
            {t.hangUp}
          </button>
        )}
        <section id="ai-captions">
          <h2>{text.value.captions.title}</h2>
          <CaptionTrack captions={list} selfPeerId={media?.peerId} />
        </section>
      </main>
    </>
  );
}

mount('app', <AiCall />);
