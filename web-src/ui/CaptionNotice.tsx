/** One sentence saying why a call has no captions (off, no engine, engine not answering); nothing while they work. */
import type { JSX } from 'preact';
import { captionStatus, type CaptionStatus } from './captionStatus.js';
import { text } from './i18n.js';

/** `status`: a given call's (the admin sees several); default: the page's one call. */
export function CaptionNotice(props: { status?: CaptionStatus | undefined } = {}): JSX.Element | null {
  const s = 'status' in props ? props.status : captionStatus.value;
  if (!s || s.available) return null;
  const t = text.value.captions;
  const sentence = s.reason === 'off' ? t.off : s.reason === 'no_engine' ? t.noEngine : t.engineFailed;
  return (
    <p class={`caption-status ${s.reason === 'off' ? 'muted' : 'warn'}`} role="status" data-reason={s.reason}>
      {sentence}
    </p>
  );
}
