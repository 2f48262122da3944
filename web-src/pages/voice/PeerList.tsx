/**
 * The voice room's peer list: one row per peer with its name, level meter, speaking and muted
 * marks. Peer names are user input, so they only ever reach the page as text (no innerHTML).
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import { text } from '../../ui/i18n.js';

export interface PeerRow {
  peerId: string;
  userId: string;
  /** dBov, -127 (silence) … 0 (loudest). */
  volume: number;
  speaking: boolean;
  muted: boolean;
}

/** The rows in join order; the controller replaces the array on every change. */
export const peerRows = signal<readonly PeerRow[]>([]);
/** This page's own peer id (its row says "(you)"). */
export const selfPeerId = signal('');

/** -127 dBov … 0 dBov → 0 … 100 % (the bar is empty below -70 dBov). */
export function levelPercent(volume: number): number {
  return Math.max(0, Math.min(100, ((volume + 70) / 70) * 100));
}

export function PeerList(): JSX.Element {
  const t = text.value.voiceRoom;
  return (
    <>
      {peerRows.value.map((p) => (
        <li key={p.peerId} class={`peer${p.speaking ? ' speaking' : ''}${p.muted ? ' muted' : ''}`} data-peer-id={p.peerId}>
          <span class="name">
            {p.userId + (p.peerId === selfPeerId.value ? ` ${t.you}` : '')}
            {p.muted && <span class="muted-mark"> · {t.muted}</span>}
          </span>
          <span class="meter">
            <span class="level" style={{ width: `${levelPercent(p.volume)}%` }} />
          </span>
        </li>
      ))}
    </>
  );
}
