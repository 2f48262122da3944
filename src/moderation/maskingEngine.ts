/**
 * Parley's masking engine: finds listed Korean and English words and their evasions in a text,
 * replaces each of their characters with `*` (same length) and returns the spans. One engine is
 * built per word list; it is immutable, so a reload swaps the whole engine (moderator.ts).
 */
import { ContextRules, tokensOf, type Token } from './context.js';
import { skeletonOf } from './skeleton.js';
import { containsHangul, wordRequirements, wordSource } from './wordPattern.js';
import type { Boundary, Category, MaskResult, MaskSpan, ModerationLanguage, TextMasker, TimedMaskResult, TimedWord, WordList } from './types.js';

interface CompiledEntry {
  word: string;
  category: Category;
  language: ModerationLanguage;
  boundary: Boundary;
  regex: RegExp;
  /** Character codes: the text must hold at least one of each set (wordRequirements). */
  requires: number[][];
  /** Whether a context rule (context.ts) may clear a match of this word. */
  hasContext: boolean;
  /** The allow-list phrases that hold this word (the only ones a match of it can stand inside), as one regex. */
  allow: RegExp | undefined;
}

const latinLetter = /[a-z]/;
const handleChar = /[a-z0-9_]/;
const hangulOrJamo = (c: string | undefined) => c !== undefined && /[\u1100-\u11ff]/.test(c);

export class MaskingEngine implements TextMasker {
  private readonly entries: CompiledEntry[];
  private readonly context: ContextRules;
  readonly size: { deny: number; allow: number };
  /** Scratch: which UTF-16 codes the text being masked holds (set and cleared by find()). */
  private readonly present = new Uint8Array(0x10000);

  constructor(list: WordList) {
    const seen = new Set<string>();
    this.context = new ContextRules(list.context ?? []);
    this.entries = [];
    for (const e of list.deny) {
      const word = e.word.trim().toLowerCase();
      if (word.length === 0 || seen.has(word)) continue;
      seen.add(word);
      const language: ModerationLanguage = containsHangul(word) ? 'ko' : 'en';
      const boundary = e.boundary ?? 'infix';
      this.entries.push({
        word,
        category: e.category,
        language,
        boundary,
        regex: new RegExp(wordSource(word, { strict: false, wholeWordEnding: boundary === 'word' }), 'gu'),
        requires: wordRequirements(word).map((set) => [...set].map((c) => c.charCodeAt(0))),
        hasContext: this.context.has(word),
        allow: undefined,
      });
    }
    // Each entry gets the allow-list phrases in which its own pattern finds a match: a match in a text can only
    // stand inside an allowed phrase that holds one too. Most entries get none or a few, so a match is checked
    // against a handful of phrases instead of the whole list (hundreds).
    const allowWords = [...new Set(list.allow.map((w) => w.trim().toLowerCase()).filter((w) => w.length > 0))];
    const mine = this.entries.map((): string[] => []);
    const probes = this.entries.map((e) => new RegExp(e.regex.source, 'u'));
    const present = this.present;
    for (const w of allowWords) {
      const sk = skeletonOf(w).text;
      for (let i = 0; i < sk.length; i++) present[sk.charCodeAt(i)] = 1;
      // The same cheap letter check as for texts first: an operator's list may hold thousands of phrases.
      this.entries.forEach((e, i) => {
        if (holdsAll(present, e.requires) && probes[i]!.test(sk)) mine[i]!.push(w);
      });
      for (let i = 0; i < sk.length; i++) present[sk.charCodeAt(i)] = 0;
    }
    this.entries.forEach((e, i) => {
      if (mine[i]!.length > 0) e.allow = new RegExp(mine[i]!.map((w) => wordSource(w, { strict: true })).join('|'), 'gu');
    });
    this.size = { deny: this.entries.length, allow: allowWords.length };
  }

  mask(text: string, language?: ModerationLanguage): MaskResult {
    const spans = this.find(text, language);
    if (spans.length === 0) return { masked: text, flagged: false, spans };
    let masked = '';
    let at = 0;
    for (const s of spans) {
      masked += text.slice(at, s.start) + '*'.repeat(s.end - s.start);
      at = s.end;
    }
    masked += text.slice(at);
    return { masked, flagged: true, spans };
  }

  maskTimedWords(words: readonly TimedWord[], language?: ModerationLanguage): TimedMaskResult {
    // Join with one space and remember where each word sits in the joined text.
    const offsets: Array<{ start: number; end: number }> = [];
    let joined = '';
    for (const w of words) {
      if (joined.length > 0) joined += ' ';
      offsets.push({ start: joined.length, end: joined.length + w.text.length });
      joined += w.text;
    }
    const result = this.mask(joined, language);
    const flagged = words.map(() => false);
    const mediaSpans: TimedMaskResult['mediaSpans'] = [];
    for (const span of result.spans) {
      let startMs = Number.POSITIVE_INFINITY;
      let endMs = Number.NEGATIVE_INFINITY;
      offsets.forEach((o, i) => {
        if (o.start < span.end && span.start < o.end) {
          flagged[i] = true;
          startMs = Math.min(startMs, words[i]!.startMs);
          endMs = Math.max(endMs, words[i]!.endMs);
        }
      });
      if (Number.isFinite(startMs)) mediaSpans.push({ startMs, endMs, category: span.category });
    }
    return {
      ...result,
      words: words.map((w, i) => ({ text: result.masked.slice(offsets[i]!.start, offsets[i]!.end), startMs: w.startMs, endMs: w.endMs, flagged: flagged[i]! })),
      mediaSpans,
    };
  }

  /** The spans to mask, sorted and non-overlapping. */
  private find(text: string, language: ModerationLanguage | undefined): MaskSpan[] {
    if (text.length === 0) return [];
    const sk = skeletonOf(text);
    const s = sk.text;
    const hasHangul = /[\u1100-\u11ff]/.test(s);
    const hasLatin = /[a-z]/.test(s);
    const found: Array<{ start: number; end: number; category: Category }> = [];
    // The text's words, for context rules: built when the first match of a word with a rule is found.
    let tokens: Token[] | undefined;
    const present = this.present;
    for (let i = 0; i < s.length; i++) present[s.charCodeAt(i)] = 1;
    for (const e of this.entries) {
      if (language !== undefined && e.language !== language) continue;
      if (e.language === 'ko' ? !hasHangul : !hasLatin) continue;
      if (!holdsAll(present, e.requires)) continue;
      const re = e.regex;
      re.lastIndex = 0;
      // Where this word's allowed phrases stand: looked for only once the word is found (most texts hold none).
      let allowed: Array<[number, number]> | undefined;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        const start = m.index;
        const end = start + m[0].length;
        if (end === start) {
          re.lastIndex = start + 1;
          continue;
        }
        if (
          this.acceptable(e, s, start, end) &&
          !(e.allow && (allowed ??= allowedSpans(e.allow, s)).some(([a, b]) => a <= start && end <= b)) &&
          !(e.hasContext && this.context.clears(e.word, text, sk, () => (tokens ??= tokensOf(s)), start, end))
        ) {
          found.push({ start, end, category: e.category });
        } else {
          re.lastIndex = start + 1;
        }
      }
    }
    for (let i = 0; i < s.length; i++) present[s.charCodeAt(i)] = 0;
    if (found.length === 0) return [];
    // Skeleton positions → input indices (a partly matched syllable is masked whole).
    const spans = found
      .map((f) => ({ start: sk.source[f.start]!, end: sk.source[f.end - 1]! + 1, category: f.category }))
      .map((f) => (f.end < text.length && isLowSurrogate(text.charCodeAt(f.end)) ? { ...f, end: f.end + 1 } : f))
      .sort((a, b) => a.start - b.start || b.end - a.end);
    const merged: MaskSpan[] = [];
    for (const span of spans) {
      const last = merged[merged.length - 1];
      if (last && span.start < last.end) last.end = Math.max(last.end, span.end);
      else merged.push({ ...span });
    }
    return merged;
  }

  /** The boundary rules a match must keep (module comment of wordPattern.ts). */
  private acceptable(e: CompiledEntry, s: string, start: number, end: number): boolean {
    const before = s[start - 1];
    const after = s[end];
    const matched = s.slice(start, end);
    const crossesSpace = /\s/.test(matched);
    if (e.language === 'en') {
      // Digits and symbols alone are not a word (`#4455` is not `ass`).
      if (!latinLetter.test(matched)) return false;
      // An @ that starts a handle is a mention, not an `a` (`@SS4_Fresh` is not `ass`): the handle goes on after the match.
      if (matched[0] === '@' && (before === undefined || !handleChar.test(before)) && after !== undefined && handleChar.test(after)) return false;
      if (e.boundary !== 'infix' && before !== undefined && latinLetter.test(before)) return false;
      if (e.boundary === 'word' && after !== undefined && latinLetter.test(after)) return false;
      if (crossesSpace) {
        // Spaced letters (`f u c k`) only: every piece one letter, and a whole word.
        if (matched.split(/\s+/).some((piece) => piece.replace(/[^\p{L}\p{N}*#@$!|+]/gu, '').length > 1)) return false;
        if ((before !== undefined && latinLetter.test(before)) || (after !== undefined && latinLetter.test(after))) return false;
      }
      return true;
    }
    // Korean: a match never ends inside a syllable (`무시받다` holds no `시바`), except before
    // ㄴ/ㄹ, the contracted particles of `새낀`, `새낄` …
    if (after !== undefined && after >= '\u11a8' && after <= '\u11c2' && after !== '\u11ab' && after !== '\u11af') return false;
    // … and one that crosses a space or a symbol must start a word (`다시 발견` is not `시발`).
    const startsWord = before === undefined || !(hangulOrJamo(before) || /[\p{L}\p{N}]/u.test(before));
    if ((e.boundary !== 'infix' || /[^\u1100-\u11ff]/.test(matched)) && !startsWord) return false;
    return true;
  }
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Where the allowed phrases of `re` stand in the skeleton `s`. */
function allowedSpans(re: RegExp, s: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  re.lastIndex = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    out.push([m.index, m.index + m[0].length]);
  }
  return out;
}

/** Whether the text whose characters are marked in `present` holds one character of each set (a plain loop: it runs for every word and text). */
function holdsAll(present: Uint8Array, requires: readonly number[][]): boolean {
  for (const set of requires) {
    let found = false;
    for (const code of set) {
      if (present[code] === 1) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}
