/**
 * The sentence a console shows while a change the cluster refused for now is being sent again
 * (web-src/ui/clusterRetry.ts). Its own module, so pages that send no queue changes (home,
 * 404, AI call) do not load the retry policy with the shared components.
 */
import type { JSX } from 'preact';
import { queueRetrying } from './clusterRetry.js';
import { text } from './i18n.js';

/** "Reconnecting to the queue…" while a change the cluster refused for now is being sent again; nothing otherwise. */
export function QueueRetryNotice(props: { id?: string }): JSX.Element | null {
  if (queueRetrying.value === 0) return null;
  return (
    <div id={props.id ?? 'queue-retrying'} class="banner warn" role="status" aria-live="polite">
      {text.value.queueRetrying}
    </div>
  );
}
