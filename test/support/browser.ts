/**
 * Real-browser helpers for the media tests (see /work/shared/BROWSER-TESTS.md):
 * Debian's Chromium driven by playwright-core (never a downloaded browser), a fake
 * microphone made from speech, WebRTC stats read from the page, and screenshots.
 *
 * Pages under test expose their peer connections as
 * `window.parley = { peers: Map<string, RTCPeerConnection>, log: [{event, data, t}], ... }`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const run = promisify(execFile);

export const CHROMIUM_PATH = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Media tests may only send traffic to 127.0.0.0/8. scripts/test.sh runs them in a network
 * namespace that has loopback alone; refuse to start a browser anywhere else, where Chromium
 * would gather (and use) the machine's external addresses.
 */
export function assertLoopbackOnlyNetwork(): void {
  if (process.env.PARLEY_MEDIA_ALLOW_HOST_NETWORK === '1') return;
  const external = Object.entries(networkInterfaces())
    .filter(([, addrs]) => (addrs ?? []).some((a) => !a.internal))
    .map(([name]) => name);
  if (external.length > 0) {
    throw new Error(
      `media tests must run in a loopback-only network namespace, but interfaces ${external.join(', ')} are up; ` +
        'run them with `bash scripts/test.sh test/media/<file>.test.ts`',
    );
  }
}

let fakeMic: Promise<string> | undefined;

/**
 * A 48 kHz, 16-bit, mono WAV of synthetic speech for `--use-file-for-fake-audio-capture`
 * (a 22 kHz file carried packets but no audio energy). Made once per process in a temp dir.
 */
export function fakeMicrophoneWav(text = 'Hello from Parley. This is the fake microphone of the media tests. One, two, three, four, five.'): Promise<string> {
  fakeMic ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-mic-'));
    const raw = join(dir, 'speech.wav');
    const wav = join(dir, 'speech-48k.wav');
    await run('espeak-ng', ['-w', raw, text], { timeout: 20_000 });
    await run('sox', [raw, '-r', '48000', '-c', '1', '-b', '16', wav], { timeout: 20_000 });
    return wav;
  })();
  return fakeMic;
}

export interface LaunchOptions {
  /** WAV played as the microphone; default: fakeMicrophoneWav(). */
  audioFile?: string;
  extraArgs?: string[];
}

export function chromiumArgs(audioFile: string): string[] {
  return [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-extensions',
    '--disable-dev-shm-usage',
    '--autoplay-policy=no-user-gesture-required',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${audioFile}`,
    '--allow-loopback-in-peer-connection',
    // Keep pages that are not in front running at full speed (two calls share one browser).
    '--disable-background-timer-throttling',
    '--disable-backgrounding-occluded-windows',
    '--disable-renderer-backgrounding',
  ];
}

/** Launches Debian's Chromium, headless, with fake camera and the fake-microphone WAV. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  assertLoopbackOnlyNetwork();
  const audioFile = options.audioFile ?? (await fakeMicrophoneWav());
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: [...chromiumArgs(audioFile), ...(options.extraArgs ?? [])],
  });
}

/** Collects the page's console and errors, to print when a test fails. */
export function recordConsole(page: Page, label: string): string[] {
  const lines: string[] = [];
  page.on('console', (m) => lines.push(`[${label}] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`[${label}] pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) lines.push(`[${label}] HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return lines;
}

export interface InboundAudio {
  /** Key of the peer connection in `window.parley.peers`. */
  peer: string;
  connectionState: string;
  packetsReceived: number;
  bytesReceived: number;
  totalAudioEnergy: number;
}

/** Sums the `inbound-rtp` audio stats of every peer connection in `window.parley.peers`. */
export async function inboundAudioStats(page: Page): Promise<InboundAudio[]> {
  return page.evaluate(async () => {
    const handle = (window as unknown as { parley?: { peers?: Map<string, RTCPeerConnection> } }).parley;
    const result: { peer: string; connectionState: string; packetsReceived: number; bytesReceived: number; totalAudioEnergy: number }[] = [];
    for (const [peer, pc] of handle?.peers ?? new Map<string, RTCPeerConnection>()) {
      const report = await pc.getStats();
      const row = { peer, connectionState: pc.connectionState as string, packetsReceived: 0, bytesReceived: 0, totalAudioEnergy: 0 };
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          row.packetsReceived += Number(s.packetsReceived ?? 0);
          row.bytesReceived += Number(s.bytesReceived ?? 0);
          row.totalAudioEnergy += Number(s.totalAudioEnergy ?? 0);
        }
      });
      result.push(row);
    }
    return result;
  });
}

/**
 * Polls until some peer connection of the page has received audio packets with energy
 * (`packetsReceived >= minPackets`, `totalAudioEnergy > 0`), or the timeout passes.
 * Returns the last stats seen either way; the caller asserts on them.
 */
export async function waitForInboundAudio(page: Page, { minPackets = 50, timeoutMs = 15_000 } = {}): Promise<InboundAudio[]> {
  const deadline = Date.now() + timeoutMs;
  let last: InboundAudio[] = [];
  for (;;) {
    last = await inboundAudioStats(page);
    if (last.some((s) => s.packetsReceived >= minPackets && s.totalAudioEnergy > 0)) return last;
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface CandidateInfo {
  candidateType: string;
  protocol: string;
  address: string;
  port: number;
  relayProtocol?: string;
}

export interface SelectedPair {
  peer: string;
  state: string;
  nominated: boolean;
  local: CandidateInfo | null;
  remote: CandidateInfo | null;
}

/**
 * The candidate pair each peer connection in `window.parley.peers` uses: the transport's
 * `selectedCandidatePairId`, or else a nominated pair in state "succeeded".
 */
export async function selectedCandidatePairs(page: Page): Promise<SelectedPair[]> {
  return page.evaluate(async () => {
    const handle = (window as unknown as { parley?: { peers?: Map<string, RTCPeerConnection> } }).parley;
    const out: {
      peer: string;
      state: string;
      nominated: boolean;
      local: { candidateType: string; protocol: string; address: string; port: number; relayProtocol?: string } | null;
      remote: { candidateType: string; protocol: string; address: string; port: number; relayProtocol?: string } | null;
    }[] = [];
    for (const [peer, pc] of handle?.peers ?? new Map<string, RTCPeerConnection>()) {
      const report = await pc.getStats();
      const byId = new Map<string, Record<string, unknown>>();
      let selectedId: string | undefined;
      report.forEach((s) => {
        byId.set(s.id, s);
        if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') selectedId = s.selectedCandidatePairId;
      });
      let pair = selectedId !== undefined ? byId.get(selectedId) : undefined;
      if (!pair) {
        for (const s of byId.values()) if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated === true) pair = s;
      }
      if (!pair) {
        out.push({ peer, state: 'none', nominated: false, local: null, remote: null });
        continue;
      }
      const local = byId.get(String(pair.localCandidateId));
      const remote = byId.get(String(pair.remoteCandidateId));
      out.push({
        peer,
        state: String(pair.state),
        nominated: pair.nominated === true,
        local: local
          ? { candidateType: String(local.candidateType), protocol: String(local.protocol), address: String(local.address ?? local.ip), port: Number(local.port), relayProtocol: local.relayProtocol === undefined ? undefined : String(local.relayProtocol) }
          : null,
        remote: remote
          ? { candidateType: String(remote.candidateType), protocol: String(remote.protocol), address: String(remote.address ?? remote.ip), port: Number(remote.port) }
          : null,
      });
    }
    return out;
  });
}

/** The signaling events the page recorded in `window.parley.log`, optionally of one name. */
export async function pageEvents(page: Page, event?: string): Promise<{ event: string; data: unknown; t: number }[]> {
  const log = await page.evaluate(() => {
    const handle = (window as unknown as { parley?: { log?: { event: string; data: unknown; t: number }[] } }).parley;
    return JSON.parse(JSON.stringify(handle?.log ?? [])) as { event: string; data: unknown; t: number }[];
  });
  return event === undefined ? log : log.filter((e) => e.event === event);
}

/** Waits until the page logged `event` (matching `where`, if given); rejects after the timeout. */
export async function waitForPageEvent(page: Page, event: string, timeoutMs = 10_000, where: (data: unknown) => boolean = () => true): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = (await pageEvents(page, event)).find((e) => where(e.data));
    if (hit) return hit.data;
    if (Date.now() > deadline) throw new Error(`page did not receive "${event}" within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function artifactsDir(): string {
  const dir = resolve(process.env.PARLEY_TEST_ARTIFACTS ?? './test-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Saves a PNG of the page into the artifacts dir; returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  const path = join(artifactsDir(), `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
  await page.screenshot({ path, fullPage: true, timeout: 10_000 });
  return path;
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Console lines and page errors, for the artifacts log. */
  console: string[];
}

/** Opens `url` in a fresh browser context (its own cookies, storage and media). */
export async function openPage(browser: Browser, url: string, label: string, timeoutMs = 15_000): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 720, height: 640 } });
  const page = await context.newPage();
  const lines = recordConsole(page, label);
  await page.goto(url, { timeout: timeoutMs, waitUntil: 'load' });
  return { context, page, console: lines };
}

/** Waits until `window.parley.state` is `state`; the error names the state and errors seen instead. */
export async function waitForParleyState(page: Page, state: string, timeoutMs = 15_000): Promise<void> {
  try {
    await page.waitForFunction((s) => (window as unknown as { parley?: { state?: string } }).parley?.state === s, state, { timeout: timeoutMs, polling: 100 });
  } catch (err) {
    const seen = await page
      .evaluate(() => {
        const p = (window as unknown as { parley?: { state?: string; errors?: unknown[] } }).parley;
        return JSON.stringify({ state: p?.state, errors: p?.errors ?? [] });
      })
      .catch(() => '(page gone)');
    throw new Error(`page never reached state "${state}" within ${timeoutMs} ms: ${seen}`, { cause: err });
  }
}

/** Waits until the page has `count` peer connections, all in connectionState "connected". */
export async function waitForConnectedPeers(page: Page, count: number, timeoutMs = 15_000): Promise<void> {
  try {
    await page.waitForFunction(
      (n) => {
        const peers = (window as unknown as { parley?: { peers?: Map<string, RTCPeerConnection> } }).parley?.peers;
        if (!peers) return false;
        // Give up early on a failed connection: it does not come back by itself.
        for (const pc of peers.values()) if (pc.connectionState === 'failed') return true;
        if (peers.size !== n) return false;
        for (const pc of peers.values()) if (pc.connectionState !== 'connected') return false;
        return true;
      },
      count,
      { timeout: timeoutMs, polling: 100 },
    );
    const failed = await page.evaluate(() => {
      const peers = (window as unknown as { parley?: { peers?: Map<string, RTCPeerConnection> } }).parley?.peers;
      return [...(peers ?? new Map<string, RTCPeerConnection>()).values()].some((pc) => pc.connectionState === 'failed');
    });
    if (failed) throw new Error('a peer connection failed');
  } catch (err) {
    const seen = await page
      .evaluate(() => {
        const p = (window as unknown as { parley?: { peers?: Map<string, RTCPeerConnection>; errors?: unknown[] } }).parley;
        const states = [...(p?.peers ?? new Map<string, RTCPeerConnection>()).entries()].map(([k, pc]) => `${k}:${pc.connectionState}/${pc.iceConnectionState}`);
        return JSON.stringify({ peers: states, errors: p?.errors ?? [] });
      })
      .catch(() => '(page gone)');
    throw new Error(`page did not get ${count} connected peer(s) within ${timeoutMs} ms: ${seen}`, { cause: err });
  }
}

/** Writes the collected console lines into the artifacts dir. */
export function saveConsoleLog(name: string, lines: string[]): string {
  const path = join(artifactsDir(), `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.console.log`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
