/** One sentence saying why a call has no captions (off, no engine, engine not answering); nothing while they work. */
import type { JSX } from 'preact';
import { captionStatus } from './captionStatus.js';
import { text } from './i18n.js';

export function CaptionNotice(): JSX.Element | null {
  const s = captionStatus.value;
  if (!s || s.available) return null;
  const t = text.value.captions;
  const sentence = s.reason === 'off' ? t.off : s.reason === 'no_engine' ? t.noEngine : t.engineFailed;
  return (
    <p class={`caption-status ${s.reason === 'off' ? 'muted' : 'warn'}`} role="status" data-reason={s.reason}>
      {sentence}
    </p>
  );
}
