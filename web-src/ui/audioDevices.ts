/**
 * Microphone and speaker choice for a console: the device lists, the chosen ids (remembered),
 * a live level from an AnalyserNode, and a pre-call check ("did we hear anything in 3 s?").
 */
import { signal } from '@preact/signals';

export interface DeviceOption {
  deviceId: string;
  label: string;
}

const MIC_KEY = 'parley.mic';
const SPEAKER_KEY = 'parley.speaker';

export const microphones = signal<DeviceOption[]>([]);
export const speakers = signal<DeviceOption[]>([]);
export const micId = signal<string>(localStorage.getItem(MIC_KEY) ?? '');
export const speakerId = signal<string>(localStorage.getItem(SPEAKER_KEY) ?? '');
/** 0..1, updated while a meter runs. */
export const micLevel = signal(0);

export function chooseMic(id: string): void {
  micId.value = id;
  localStorage.setItem(MIC_KEY, id);
}
export function chooseSpeaker(id: string): void {
  speakerId.value = id;
  localStorage.setItem(SPEAKER_KEY, id);
}

export async function listDevices(): Promise<void> {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  const all = await navigator.mediaDevices.enumerateDevices();
  const opt = (d: MediaDeviceInfo, i: number): DeviceOption => ({ deviceId: d.deviceId, label: d.label || `${d.kind === 'audioinput' ? 'Microphone' : 'Speaker'} ${i + 1}` });
  microphones.value = all.filter((d) => d.kind === 'audioinput' && d.deviceId !== 'default' && d.deviceId !== 'communications').map(opt);
  speakers.value = all.filter((d) => d.kind === 'audiooutput' && d.deviceId !== 'default' && d.deviceId !== 'communications').map(opt);
}

/** Constraints for getUserMedia with the chosen microphone. */
export function micConstraints(): MediaTrackConstraints | boolean {
  return micId.value ? { deviceId: { exact: micId.value } } : true;
}

/** Plays every <audio>/<video> under `root` on the chosen speaker, where the browser can. */
export async function routeToSpeaker(root: ParentNode = document): Promise<void> {
  const id = speakerId.value;
  for (const el of root.querySelectorAll<HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> }>('audio, video')) {
    if (el.setSinkId) await el.setSinkId(id).catch(() => undefined);
  }
}

export function speakerSelectable(): boolean {
  return typeof (HTMLMediaElement.prototype as { setSinkId?: unknown }).setSinkId === 'function';
}

/** Runs a level meter on `stream` into `micLevel`; returns the stop. Bounded by `maxMs`. */
export function meter(stream: MediaStream, maxMs = 10 * 60_000): { stop: () => void; peak: () => number } {
  const ctx = new AudioContext();
  const src = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  src.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  let peak = 0;
  const tick = setInterval(() => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    const rms = Math.sqrt(sum / buf.length);
    const level = Math.min(1, rms * 4);
    peak = Math.max(peak, level);
    micLevel.value = level;
  }, 100);
  const limit = setTimeout(() => stop(), maxMs);
  const stop = (): void => {
    clearInterval(tick);
    clearTimeout(limit);
    micLevel.value = 0;
    void ctx.close().catch(() => undefined);
  };
  return { stop, peak: () => peak };
}

export type MicCheck = 'ok' | 'silent' | 'failed';

/** Opens the chosen microphone for `ms`, measures, closes it: 'ok' when a sound was heard. */
export async function checkMicrophone(ms = 3000): Promise<MicCheck> {
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: micConstraints() });
  } catch {
    return 'failed';
  }
  await listDevices().catch(() => undefined);
  const m = meter(stream, ms + 1000);
  await new Promise((r) => setTimeout(r, ms));
  const peak = m.peak();
  m.stop();
  for (const t of stream.getTracks()) t.stop();
  return peak > 0.02 ? 'ok' : 'silent';
}
