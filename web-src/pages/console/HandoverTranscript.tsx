/**
 * What the caller and the AI assistant said before the assistant handed the call to a person (issue 11): shown on
 * the incoming-call card and in the call view, so the agent who answers knows the context without asking again.
 * The lines come with the offer (`OfferView.transcript`, masked by the server).
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import { render } from 'preact';
import type { HandoverLine } from '../../../src/domain/consultations/consultationView.js';
import { text } from '../../ui/i18n.js';

/** The ringing offer's hand-over lines; undefined when the call did not come from the assistant. */
export const offerHandover = signal<HandoverLine[] | undefined>(undefined);
/** The call in progress's hand-over lines. */
export const callHandover = signal<HandoverLine[] | undefined>(undefined);

function HandoverTranscript(props: { lines: HandoverLine[] | undefined; id: string }): JSX.Element | null {
  const lines = props.lines;
  if (!lines) return null;
  const t = text.value.handover;
  return (
    <section class="handover-transcript" id={props.id} aria-label={t.title}>
      <strong>{t.title}</strong>
      {lines.length === 0 ? (
        <p class="muted empty">{t.none}</p>
      ) : (
        <ol class="captions transcript">
          {lines.map((l, i) => (
            <li key={i} class="final" data-role={l.role}>
              <strong>{l.role === 'bot' ? t.bot : t.caller}</strong>: <span class="text">{l.text}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function mountHandoverTranscripts(): void {
  const call = document.getElementById('call-handover');
  if (call) render(<CallLines />, call);
}

/** The ringing offer's lines (part of the offer card, pages/console/OfferCard.tsx). */
export function OfferLines(): JSX.Element | null {
  return <HandoverTranscript lines={offerHandover.value} id="offer-transcript" />;
}

function CallLines(): JSX.Element | null {
  return <HandoverTranscript lines={callHandover.value} id="call-transcript-handover" />;
}
