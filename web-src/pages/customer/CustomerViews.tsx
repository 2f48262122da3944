/**
 * The customer page's sentences, as Preact views of signals (web/c/index.html keeps the
 * elements and their ids; each view renders into one of them). The controller (customer.ts)
 * sets the signals; a sentence is stored as a function of the language table, so switching the
 * language redraws every sentence on the page in the new language, not only the static ones.
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import { Timer } from '../../ui/components.js';
import { text } from '../../ui/i18n.js';
import type { UiText } from '../../ui/text/en.js';

export type CustomerText = UiText['customer'];
/** A sentence in whichever language the page shows; null shows nothing. */
export type Sentence = ((t: CustomerText) => string) | null;

export const say = (s: string): Sentence => () => s;

/** The banner under the header (#status) and the codes tests and styles read from it. */
export const banner = signal<{ say: Sentence; kind: 'info' | 'warn' | 'error' }>({ say: null, kind: 'info' });
/** data-status (the consultation's status), data-assistant ('talking' | 'handing-over' | ''), data-cause. */
export const statusMarks = signal<{ status?: string; assistant?: string; cause?: string }>({});

export const invalidReason = signal<Sentence>(null);
export const entryName = signal('');
export const formError = signal<Sentence>(null);
export const calling = signal(false);

export const callTitle = signal<Sentence>((t) => t.page.waitingTitle);
export const queuePosition = signal<number | undefined>(undefined);
export const waitText = signal<Sentence>(null);
export const callDetail = signal<Sentence>(null);
export const agentName = signal<Sentence>(null);
/** When the call began (ms epoch); undefined shows 0:00. */
export const callStartedAt = signal<number | undefined>(undefined);
export const muted = signal(false);

export const noAgentDetail = signal<Sentence>(null);
export const callbackError = signal<Sentence>(null);
export const endedReason = signal<Sentence>(null);

const show = (s: Sentence): string => (s ? s(text.value.customer) : '');

/** Renders one sentence signal as text (into an element the page already has). */
export function Say(props: { s: { value: Sentence } }): JSX.Element {
  return <>{show(props.s.value)}</>;
}

export function StatusBanner(): JSX.Element {
  const b = banner.value;
  const m = statusMarks.value;
  return (
    <div id="status" class={`banner ${b.kind}`} role="status" aria-live="polite" data-status={m.status} data-assistant={m.assistant} data-cause={m.cause}>
      {show(b.say)}
    </div>
  );
}

export function EntryName(): JSX.Element {
  return <>{entryName.value}</>;
}

export function CallButtonLabel(): JSX.Element {
  const t = text.value.customer.page;
  return <>{calling.value ? t.calling : t.call}</>;
}

export function Position(): JSX.Element {
  const p = queuePosition.value;
  return <>{p === undefined ? '–' : String(p)}</>;
}

export function WaitText(): JSX.Element {
  return <>{show(waitText.value) || '–'}</>;
}

export function AgentName(): JSX.Element {
  return <>{show(agentName.value) || '–'}</>;
}

export function CallClock(): JSX.Element {
  const from = callStartedAt.value;
  return from === undefined ? <>0:00</> : <Timer from={from} />;
}

export function MuteLabel(): JSX.Element {
  const t = text.value.customer.page;
  return <>{muted.value ? t.unmute : t.mute}</>;
}

export function NoAgentText(): JSX.Element {
  return <>{text.value.customer.status.noAgent}</>;
}
