/** Drives the voice room page (web/voice/index.html, stock mediasoup-client) from tests. */
import type { Browser, Page } from 'playwright-core';
import { openPage, type OpenedPage } from './browser.js';

export interface ConsumerAudio {
  consumerId: string;
  peerId: string;
  kind: string;
  packetsReceived: number;
  totalAudioEnergy: number;
  framesDecoded: number;
  /** Packets the sender says it sent, from the RTCP sender reports the receiver got (remote-outbound-rtp). */
  remotePacketsSent: number;
}

interface VoiceWindow {
  voice: {
    joined: boolean;
    peerId: string;
    errors: string[];
    closedReason?: string;
    events: Array<{ event: string; data: unknown }>;
    consumers: Map<string, { id: string; kind: string; closed: boolean; appData: { peerId: string }; getStats(): Promise<RTCStatsReport> }>;
    peers: Map<string, unknown>;
  };
}

export async function openVoicePage(browser: Browser, baseUrl: string, room: string, user: string, opts: { video?: boolean } = {}): Promise<OpenedPage> {
  const p = await openPage(browser, `${baseUrl}/voice/?room=${encodeURIComponent(room)}&user=${encodeURIComponent(user)}${opts.video ? '&video=1' : ''}`, user);
  await waitForJoined(p.page);
  return p;
}

export async function waitForJoined(page: Page, timeoutMs = 20_000): Promise<void> {
  try {
    await page.waitForFunction(() => (window as unknown as VoiceWindow).voice?.joined === true, undefined, { timeout: timeoutMs, polling: 100 });
  } catch (err) {
    const errors = await page.evaluate(() => (window as unknown as VoiceWindow).voice?.errors ?? []).catch(() => []);
    throw new Error(`voice page did not join: ${JSON.stringify(errors)} (${(err as Error).message})`);
  }
}

export function peerIdOf(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as VoiceWindow).voice.peerId);
}

/** inbound-rtp of every open consumer of the page. */
export function consumerStats(page: Page): Promise<ConsumerAudio[]> {
  return page.evaluate(async () => {
    const v = (window as unknown as VoiceWindow).voice;
    const out: ConsumerAudio[] = [];
    for (const c of v.consumers.values()) {
      if (c.closed) continue;
      const row: ConsumerAudio = { consumerId: c.id, peerId: c.appData.peerId, kind: c.kind, packetsReceived: 0, totalAudioEnergy: 0, framesDecoded: 0, remotePacketsSent: 0 };
      const stats = await c.getStats();
      stats.forEach((s: Record<string, unknown>) => {
        if (s.type === 'remote-outbound-rtp') row.remotePacketsSent += Number(s.packetsSent ?? 0);
        if (s.type !== 'inbound-rtp') return;
        row.packetsReceived += Number(s.packetsReceived ?? 0);
        row.totalAudioEnergy += Number(s.totalAudioEnergy ?? 0);
        row.framesDecoded += Number(s.framesDecoded ?? 0);
      });
      out.push(row);
    }
    return out;
  });
}

/** Polls until every listed peer is heard on this page (packets and energy), or fails saying who is missing. */
export async function waitUntilHearing(page: Page, peerIds: string[], timeoutMs = 20_000): Promise<ConsumerAudio[]> {
  const deadline = Date.now() + timeoutMs;
  let last: ConsumerAudio[] = [];
  while (Date.now() < deadline) {
    last = await consumerStats(page);
    const heard = peerIds.filter((id) => last.some((c) => c.peerId === id && c.kind === 'audio' && c.packetsReceived > 20 && c.totalAudioEnergy > 0));
    if (heard.length === peerIds.length) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not hearing everyone within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

export function voiceEvents(page: Page, event: string): Promise<unknown[]> {
  return page.evaluate((e) => (window as unknown as VoiceWindow).voice.events.filter((x) => x.event === e).map((x) => x.data), event);
}
