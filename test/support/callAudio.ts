/** A consultation page's call audio as its transports' getStats() report it (`window.parley.media.stats()`). */
import type { Page } from 'playwright-core';

interface MediaStat {
  type: string;
  kind: string;
  packetsReceived?: number;
  packetsSent?: number;
  totalAudioEnergy?: number;
}

export interface CallAudio {
  received: number;
  energy: number;
  sent: number;
}

export async function callAudio(page: Page): Promise<CallAudio> {
  const rows = await page.evaluate(async () => {
    const media = (window as unknown as { parley: { media?: { stats(): Promise<MediaStat[]> } } }).parley.media;
    return media ? media.stats() : [];
  });
  const audio = rows.filter((r) => r.kind === 'audio');
  return {
    received: audio.filter((r) => r.type === 'inbound-rtp').reduce((n, r) => n + (r.packetsReceived ?? 0), 0),
    energy: audio.filter((r) => r.type === 'inbound-rtp').reduce((n, r) => n + (r.totalAudioEnergy ?? 0), 0),
    sent: audio.filter((r) => r.type === 'outbound-rtp').reduce((n, r) => n + (r.packetsSent ?? 0), 0),
  };
}

/** Polls until the page receives audio with energy (or the time is up), and returns what it saw. */
export async function waitForCallAudio(page: Page, minPackets = 100, timeoutMs = 20_000): Promise<CallAudio> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await callAudio(page);
    if ((s.received >= minPackets && s.energy > 0) || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 250));
  }
}
