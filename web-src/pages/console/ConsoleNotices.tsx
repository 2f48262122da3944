/**
 * The agent console's sentences that are not panels: the error and notice banners under the
 * header, the connection badge, and the wrap-up's summary and message. The controller sets the
 * signals; a sentence is always one of the language table's (never a code).
 */
import { signal, type ReadonlySignal } from '@preact/signals';
import type { JSX } from 'preact';
import { ConnectionStatus, type ConnectionState } from '../../ui/components.js';
import { QueueRetryNotice } from '../../ui/QueueRetryNotice.js';

/** The banners' sentences; empty hides a banner. */
export const errorBanner = signal('');
export const noticeBanner = signal('');
/** The wrap-up card's summary ("You ended the call with …, 3:07.") and its message (note saved …). */
export const wrapUpSummary = signal('');
export const wrapUpMessage = signal('');
/** The sign-in form's sentence, and who is signed in (the header). */
export const signInError = signal('');
export const signedInAs = signal('');

export function SignInError(): JSX.Element {
  return (
    <div id="signin-error" class="error" role="alert">
      {signInError.value}
    </div>
  );
}

export function SignedInAs(): JSX.Element {
  return (
    <span id="agent-name" class="muted">
      {signedInAs.value}
    </span>
  );
}

export function ConsoleBanners(): JSX.Element {
  return (
    <>
      <QueueRetryNotice />
      <div id="error-banner" class="banner error" role="alert" hidden={!errorBanner.value}>
        {errorBanner.value}
      </div>
      <div id="notice-banner" class="banner info" role="status" hidden={!noticeBanner.value}>
        {noticeBanner.value}
      </div>
    </>
  );
}

/** The header's connection badge (hidden while signed out). */
export function ConsoleConnection(props: { state: ReadonlySignal<ConnectionState | undefined> }): JSX.Element | null {
  const s = props.state.value;
  return s ? <ConnectionStatus id="connection" state={props.state as ReadonlySignal<ConnectionState>} /> : null;
}

export function WrapUpSummary(): JSX.Element {
  return <>{wrapUpSummary.value}</>;
}

export function WrapUpMessage(): JSX.Element {
  return <>{wrapUpMessage.value}</>;
}
