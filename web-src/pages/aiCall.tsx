/**
 * The AI call page (web/ai/index.html): try the AI assistant from a browser. It says plainly that the other side is
 * an AI, starts a call (`POST /api/v1/agent/calls`), joins the bot's room on `/voice` with the microphone, and shows
 * both sides' captions. While the call is live it shows how the assistant heard the caller's last words (their
 * sentiment), and when it ends, how it ended (`GET /api/v1/agent/calls/:roomId`: resolved by the assistant, handed
 * to a person, or left). Tests read `window.aiCall` (state, roomId, captions, summary, the media's consumers).
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

interface Summary {
  live: boolean;
  outcome: 'in_progress' | 'resolved_by_bot' | 'transferred' | 'abandoned';
  turns: Array<{ seq: number; outcome: string; sentiment: { sentiment: 'positive' | 'neutral' | 'negative'; score: number } }>;
}
const summary = signal<Summary | undefined>(undefined);
let polling: ReturnType<typeof setInterval> | undefined;

async function refresh(roomId: string): Promise<void> {
  try {
    const res = await fetch(`/api/v1/agent/calls/${encodeURIComponent(roomId)}`);
    if (res.ok) summary.value = ((await res.json()) as { data: Summary }).data;
  } catch {
    /* the next poll tries again */
  }
}

function stopPolling(roomId: string): void {
  clearInterval(polling);
  polling = undefined;
  // The bot leaves after the caller and its last turn is stored a moment later: ask until the call is over.
  let tries = 0;
  const again = async (): Promise<void> => {
    await refresh(roomId);
    if (summary.value?.live !== false && ++tries < 10 && state.value !== 'live') setTimeout(() => void again(), 1000);
  };
  setTimeout(() => void again(), 500);
}

const debug = {
  get state() {
    return state.value;
  },
  roomId: '',
  botPeerId: '',
  get captions() {
    return captions.value;
  },
  get summary() {
    return summary.value;
  },
  get consumers() {
    return media?.consumers;
  },
  errors: [] as string[],
};
(window as unknown as { aiCall: typeof debug }).aiCall = debug;

async function start(): Promise<void> {
  state.value = 'starting';
  summary.value = undefined;
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
        stopPolling(data.roomId);
      },
    });
    await media.join();
    state.value = 'live';
    polling = setInterval(() => void refresh(data.roomId), 2000);
  } catch (err) {
    debug.errors.push((err as Error).message);
    state.value = 'failed';
  }
}

async function hangUp(): Promise<void> {
  await media?.leave();
  state.value = 'ended';
  if (debug.roomId) stopPolling(debug.roomId);
}

function Mood(): JSX.Element | null {
  const last = summary.value?.turns.at(-1);
  if (!last) return null;
  const t = text.value.ai.mood;
  const kind = last.sentiment.sentiment;
  return (
    <p id="ai-mood" class={`live-sentiment badge ${kind}`} data-sentiment={kind} title={t.title}>
      {t[kind](Math.round(last.sentiment.score * 100))}
    </p>
  );
}

function Outcome(): JSX.Element | null {
  const s = summary.value;
  if (!s || s.outcome === 'in_progress' || state.value === 'live') return null;
  const answered = s.turns.filter((x) => x.outcome === 'answered').length;
  return (
    <section id="ai-outcome" data-outcome={s.outcome}>
      <h2>{text.value.ai.outcome}</h2>
      <p>
        <strong>{text.value.aiOutcome[s.outcome]}</strong> · {text.value.ai.turns(answered)}
      </p>
    </section>
  );
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
        <Mood />
        <Outcome />
        <section id="ai-captions">
          <h2>{text.value.captions.title}</h2>
          <CaptionTrack captions={list} selfPeerId={media?.peerId} />
        </section>
      </main>
    </>
  );
}

mount('app', <AiCall />);
