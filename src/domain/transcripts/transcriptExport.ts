/**
 * A transcript as files people open: JSON (everything kept), plain text, WebVTT and SRT
 * (subtitles over the recording). Times are the utterances' own, counted from the room's start.
 */
import type { Utterance } from './transcript.js';

export const transcriptFormats = ['json', 'txt', 'vtt', 'srt'] as const;
export type TranscriptFormat = (typeof transcriptFormats)[number];

export const contentTypes: Record<TranscriptFormat, string> = {
  json: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  vtt: 'text/vtt; charset=utf-8',
  srt: 'application/x-subrip; charset=utf-8',
};

function clock(ms: number, separator: '.' | ','): string {
  const t = Math.max(0, Math.round(ms));
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor((t % 3_600_000) / 60_000);
  const s = Math.floor((t % 60_000) / 1000);
  const frac = t % 1000;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(h)}:${p(m)}:${p(s)}${separator}${p(frac, 3)}`;
}

const roleLabel: Record<Utterance['role'], string> = { customer: 'Customer', agent: 'Agent', bot: 'Bot', supervisor: 'Supervisor', participant: 'Participant' };

function speaker(u: Utterance): string {
  return `${u.name} (${roleLabel[u.role]})`;
}

/** Cue text may not contain "-->" nor blank lines. */
function cueText(text: string): string {
  return text.replaceAll('-->', '->').replace(/\n\s*\n/g, '\n');
}

/** One utterance as Parley writes it out: the JSON export, and (with its ids) the REST view. */
export function utteranceJson(u: Utterance) {
  return {
    utteranceId: u.utteranceId,
    speaker: { role: u.role, userId: u.userId, name: u.name, peerId: u.peerId },
    startMs: u.startMs,
    endMs: u.endMs,
    text: u.text,
    maskedSpans: u.spans,
    language: u.language,
    engine: u.engine,
    confidence: u.confidence,
  };
}

export function exportTranscript(utterances: Utterance[], format: TranscriptFormat): string {
  const sorted = [...utterances].sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
  switch (format) {
    case 'json':
      return JSON.stringify(sorted.map(utteranceJson), null, 2);
    case 'txt':
      return sorted.map((u) => `[${clock(u.startMs, '.').slice(0, 8)}] ${speaker(u)}: ${u.text}`).join('\n') + (sorted.length ? '\n' : '');
    case 'vtt':
      return (
        'WEBVTT\n\n' +
        sorted.map((u) => `${clock(u.startMs, '.')} --> ${clock(Math.max(u.endMs, u.startMs + 1), '.')}\n<v ${u.name.replaceAll('>', '')}>${cueText(u.text)}\n`).join('\n')
      );
    case 'srt':
      return sorted.map((u, i) => `${i + 1}\n${clock(u.startMs, ',')} --> ${clock(Math.max(u.endMs, u.startMs + 1), ',')}\n${speaker(u)}: ${cueText(u.text)}\n`).join('\n');
  }
}
