/**
 * The agent's incoming-call alert, made to work while the console is a background tab: the tab
 * title blinks with the caller's name, a desktop notification is raised (once permission is
 * granted; the console asks on a click), and a ring plays until the call is answered or leaves.
 */
import { signal } from '@preact/signals';
import { text } from './i18n.js';

export type NotifyPermission = 'default' | 'granted' | 'denied' | 'unsupported';

export const notifyPermission = signal<NotifyPermission>(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

export async function askNotifyPermission(): Promise<NotifyPermission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  notifyPermission.value = await Notification.requestPermission();
  return notifyPermission.value;
}

export interface RingingAlert {
  stop(): void;
  readonly notification?: Notification;
}

let audioCtx: AudioContext | undefined;

/** One two-tone ring (880/660 Hz), if the page may make sound. */
export function ringOnce(): void {
  try {
    audioCtx ??= new AudioContext();
    const ctx = audioCtx;
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
    const t0 = ctx.currentTime;
    for (const [i, freq] of [880, 660].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + i * 0.22);
      gain.gain.exponentialRampToValueAtTime(0.2, t0 + i * 0.22 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.22 + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + i * 0.22);
      osc.stop(t0 + i * 0.22 + 0.21);
    }
  } catch {
    /* no sound allowed: title and notification still tell */
  }
}

/**
 * Starts the alert for an offer: title, notification, ring every 2 s (bounded by `maxMs`, the
 * offer's own expiry). `stop()` restores the title and closes the notification.
 */
export function startIncomingCallAlert(caller: { name?: string | null; inquiry?: string | null; consultationId: string }, maxMs = 60_000): RingingAlert {
  const t = text.value.alert;
  const name = caller.name || t.noName;
  const baseTitle = document.title;
  const alertTitle = t.tabTitle(name);
  let on = true;
  document.title = alertTitle;
  const blink = setInterval(() => {
    on = !on;
    document.title = on ? alertTitle : baseTitle;
  }, 1000);
  ringOnce();
  const ring = setInterval(ringOnce, 2000);
  let notification: Notification | undefined;
  if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
    try {
      notification = new Notification(t.notificationTitle, { body: t.notificationBody(name, caller.inquiry ?? ''), tag: `parley-offer-${caller.consultationId}`, requireInteraction: true });
      notification.onclick = () => {
        window.focus();
        notification?.close();
      };
    } catch {
      notification = undefined;
    }
  }
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(blink);
    clearInterval(ring);
    clearTimeout(limit);
    document.title = baseTitle;
    notification?.close();
  };
  const limit = setTimeout(stop, maxMs);
  return { stop, notification };
}
