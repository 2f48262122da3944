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
  /** Listed words left unmasked where the words around them give them a clean sense (built-in list only). */
  context?: readonly ContextRule[];
}

/**
 * When a listed Latin-script word has a clean sense that a fixed phrase cannot capture, because the words that
 * show it need not stand next to it: a car's `tranny` ("transmission"), a breeder's `bitch`, the Dutch `hoe`
 * ("how"), a man called `Dick`. A match of one of `words` is left unmasked when the rule holds.
 */
export interface ContextRule {
  /** The deny-list entries (as listed) whose matches the rule may clear. */
  words: readonly string[];
  /** Clean when at least `atLeast` (default 1) different ones of these words stand within `window` words of the match. */
  near?: readonly string[];
  /** How many words either side count as near; 0 means anywhere in the text (a Dutch sentence). Default 6. */
  window?: number;
  atLeast?: number;
  /**
   * Clean when the word is written as a name: a capital and then small letters, beside another word that starts
   * with a capital (`Dick Cheney`, `Philip K. Dick`), in a text that also has words in small letters (a title-case
   * insult is not a name).
   */
  asName?: boolean;
  /** Phrases that keep the word masked even in that context (`son of a bitch` beside `puppies`). */
  unless?: readonly string[];
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
