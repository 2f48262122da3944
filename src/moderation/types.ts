/**
 * The moderation contract other slices use: what a mask result is, and the port
 * (`TextMasker`) that chat, captions and transcripts depend on.
 */

export const categories = ['profanity', 'sexual', 'slur', 'insult'] as const;
export type Category = (typeof categories)[number];

/** `ko`: Korean words only; `en`: English words only; `undefined`: both (the default). */
export type ModerationLanguage = 'ko' | 'en';

/** How a word may sit inside a longer one (for Korean only `prefix` differs from `infix`: the word must start a word). */
export type Boundary =
  /** Only as a whole word, with an optional -s/-es/-ed/-er/-ing ending (`ass`, not `class`). */
  | 'word'
  /** At the start of a word, any ending (`bastard`, `bastards`). */
  | 'prefix'
  /** Anywhere, also inside words (`fuck` in `motherfucker`). */
  | 'infix';

export interface DenyEntry {
  word: string;
  category: Category;
  /** Default `infix`. */
  boundary?: Boundary;
}

export interface WordList {
  deny: readonly DenyEntry[];
  /** Words and phrases inside which nothing is masked (`shiitake`, `시발점`). */
  allow: readonly string[];
}

/** A masked stretch of the input: UTF-16 indices, `end` exclusive (JavaScript's `slice`). */
export interface MaskSpan {
  start: number;
  end: number;
  category: Category;
}

export interface MaskResult {
  /** The input with every masked character (UTF-16 unit) replaced by `*`: same length. */
  masked: string;
  flagged: boolean;
  spans: MaskSpan[];
}

/** A word recognized by a speech engine, with its media time (ms on the room's clock). */
export interface TimedWord {
  text: string;
  startMs: number;
  endMs: number;
}

export interface TimedMaskResult extends MaskResult {
  /** The input words in order, each with its masked text (never the original of a masked word). */
  words: Array<{ text: string; startMs: number; endMs: number; flagged: boolean }>;
  /** Media time covered by each masked span (from the first to the last word it touches): what a recording bleeps. */
  mediaSpans: Array<{ startMs: number; endMs: number; category: Category }>;
}

/** The port chat, captions and transcripts depend on. */
export interface TextMasker {
  mask(text: string, language?: ModerationLanguage): MaskResult;
  /** Masks recognized words: `masked` is the words joined by one space; spans index that string. */
  maskTimedWords(words: readonly TimedWord[], language?: ModerationLanguage): TimedMaskResult;
}
