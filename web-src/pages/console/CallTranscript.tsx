/**
 * A past call's transcript in the agent's own history (issue 10 §6): what was said, by speaker
 * and time since the call started, masked words blurred and labelled (their text never reaches
 * the page). The server decides who may read it: the agent who handled the call, and admins.
 */
import { useSignal, useSignalEffect } from '@preact/signals';
import type { JSX } from 'preact';
import type { UtteranceJson } from '../../../src/http/routes/transcriptRoutes.js';
import { CaptionText } from '../../ui/components.js';
import { formatClock } from '../../ui/format.js';
import { text } from '../../ui/i18n.js';
import { api } from '../../ui/rest.js';

type Loaded = { state: 'loading' } | { state: 'failed' } | { state: 'ready'; utterances: UtteranceJson[] };

export function CallTranscript(props: { consultationId: string; token: string }): JSX.Element {
  const loaded = useSignal<Loaded>({ state: 'loading' });
  useSignalEffect(() => {
    let live = true;
    api<{ utterances: UtteranceJson[] }>('GET', `/api/v1/consultations/${encodeURIComponent(props.consultationId)}/transcript`, { token: props.token }).then(
      (r) => live && (loaded.value = { state: 'ready', utterances: r.utterances }),
      () => live && (loaded.value = { state: 'failed' }),
    );
    return () => {
      live = false;
    };
  });
  const t = text.value.callTranscript;
  const c = text.value.captions;
  const l = loaded.value;
  const roleLabel = (role: string): string => (c as Record<string, string>)[role] ?? role;
  return (
    <section class="call-transcript" data-state={l.state}>
      <strong>{t.title}</strong>
      {l.state === 'loading' && <p class="muted">{t.loading}</p>}
      {l.state === 'failed' && <p class="inline-error" role="alert">{t.failed}</p>}
      {l.state === 'ready' && l.utterances.length === 0 && <p class="muted empty">{t.none}</p>}
      {l.state === 'ready' && l.utterances.length > 0 && (
        <ol class="captions transcript">
          {l.utterances.map((u) => (
            <li key={u.id} class="final" data-role={u.speaker.role}>
              <span class="muted">{formatClock(Math.floor(u.startMs / 1000))} </span>
              <strong>{u.speaker.name}</strong> <span class="muted">({roleLabel(u.speaker.role)})</span> <CaptionText text={u.text} spans={u.maskedSpans} label={c.masked} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
