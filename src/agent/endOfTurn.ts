/**
 * End-of-turn decision after the caller's speech ended (LiveKit agents' endpointing): wait `minDelayMs` for more
 * speech, or `maxDelayMs` when the transcript looks cut off in the middle of something a caller dictates in
 * pieces — a phone number (digits, or spoken digits, at the end), an email address (`@`, "at", "dot", 골뱅이, 점),
 * or a trailing connective (and, or, 그리고, 그런데) — so the bot does not answer half a number.
 */
const SPOKEN_DIGITS = /\b(zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple)$/i;
const KO_DIGITS = /(공|영|일|이|삼|사|오|육|륙|칠|팔|구)$/u;
const UNFINISHED = /(\d[\d\s-]*|@|\S+@\S*\.|\b(at|dot|and|or|but|um|uh|so|my number is|my email is)|골뱅이|(?<=^|\s)(점|음|어)|그리고|그런데|그래서)$/iu;

export function looksUnfinished(transcript: string): boolean {
  const t = transcript.trim().replace(/[,\s]+$/u, '');
  if (!t) return false;
  if (UNFINISHED.test(t) || SPOKEN_DIGITS.test(t)) return true;
  // Korean digits read one by one ("공일공 일이삼사") end in a digit syllable after a run of them.
  const lastWord = t.split(/\s+/u).at(-1) ?? '';
  return lastWord.length >= 2 && [...lastWord].every((c) => KO_DIGITS.test(c));
}

export interface Endpointing {
  /** Silence after the end of speech before the bot answers. */
  readonly minDelayMs: number;
  /** The longest wait when the transcript looks unfinished. */
  readonly maxDelayMs: number;
}

export function endOfTurnDelay(transcript: string, e: Endpointing): number {
  return looksUnfinished(transcript) ? e.maxDelayMs : e.minDelayMs;
}
