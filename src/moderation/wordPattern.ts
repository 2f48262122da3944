/**
 * Turns a listed word into a regular expression over the skeleton (skeleton.ts) that also
 * matches its evasions:
 * - separators between letters (`f.u.c.k`, `시 발`, `시1발`, zero-width characters); whether a
 *   space may be crossed is decided after the match (maskingEngine.ts);
 * - repeated letters (`fuuuck`) and, in Korean, a repeated vowel syllable (`씨이이발`);
 * - digits and symbols for letters (`sh1t`, `a$$`, `f*ck`);
 * - Korean tensed and near vowels (`씨발`, `쉬발`, `섀끼`), a final written as a loose jamo
 *   (`시바ㄹ`), and the word's initials (`ㅅㅂ`) are separate entries of the list.
 * Allow-list words compile strictly: the same letters, only case and look-alikes folded.
 */
import { skeletonOf } from './skeleton.js';

/** What may stand between two letters of an English word. */
export const latinSeparator = String.raw`[\s.\-_~^'"\u0060,:;\u200b-\u200d\u2060\ufeff]`;
/** What may stand between two syllables of a Korean word. */
export const hangulSeparator = String.raw`[\s\d.,_\-~^'"\u0060:;/\\|*+=!?@#$%&()\[\]{}<>ㆍ·\u200b-\u200d\u2060\ufeff]`;

const latinClasses: Record<string, string> = {
  a: 'a@4*#',
  b: 'b8',
  c: 'c(',
  e: 'e3*#',
  g: 'g9',
  i: 'i1!|*#',
  l: 'l1|',
  o: 'o0*#',
  s: 's$5',
  t: 't7+',
  u: 'uv*#',
  y: 'y',
  z: 'z',
};

function escapeClass(chars: string): string {
  return chars.replace(/[\\\]\[^\-]/g, (c) => `\\${c}`);
}

function escapeLiteral(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, (c) => `\\${c}`);
}

/**
 * A plain initial may be written tensed (`새끼` → `쌔끼`, `병신` → `뼝신`); not the other way
 * round, which would turn `찐따` into the verb ending `진다`.
 */
const tense: Record<string, string> = { ᄀ: 'ᄀᄁ', ᄃ: 'ᄃᄄ', ᄇ: 'ᄇᄈ', ᄉ: 'ᄉᄊ', ᄌ: 'ᄌᄍ' };
/** Vowels an evader swaps for ㅣ without changing the word (`쉬발`, `싀발`). ㅐ/ㅔ are listed spellings instead (`세끼` is also "meals"). */
const nearVowel: Record<string, string> = { ᅵ: 'ᅵᅴᅱ' };
/** Final consonant → the initial a loose jamo of it becomes in the skeleton. */
const finalToInitial: Record<string, string> = { ᆨ: 'ᄀ', ᆩ: 'ᄁ', ᆫ: 'ᄂ', ᆮ: 'ᄃ', ᆯ: 'ᄅ', ᆷ: 'ᄆ', ᆸ: 'ᄇ', ᆺ: 'ᄉ', ᆻ: 'ᄊ', ᆼ: 'ᄋ', ᆽ: 'ᄌ', ᆾ: 'ᄎ', ᆿ: 'ᄏ', ᇀ: 'ᄐ', ᇁ: 'ᄑ', ᇂ: 'ᄒ' };

/** A final, or the same consonant typed as a loose jamo (`시바ㄹ`): not the initial of the next syllable (`조선` is not `좃`). */
function finalClass(c: string): string {
  return `(?:${c}|${finalToInitial[c]}(?![\\u1161-\\u1175]))`;
}

const isInitial = (c: string) => c >= '\u1100' && c <= '\u1112';
const isMedial = (c: string) => c >= '\u1161' && c <= '\u1175';

export function containsHangul(s: string): boolean {
  return /[\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3]/.test(s);
}

/** Regex source for a Korean word. */
function hangulSource(word: string, strict: boolean): string {
  const { text, source } = skeletonOf(word);
  // Group the jamo by the input character (syllable) they came from.
  const groups: string[][] = [];
  for (let i = 0; i < text.length; i++) {
    if (i === 0 || source[i] !== source[i - 1]) groups.push([]);
    groups[groups.length - 1]!.push(text[i]!);
  }
  const parts: string[] = [];
  // One syllable (`씹`, `좆`) is too short to vary: `십`, `쉽` and `쫒` are ordinary words.
  const exact = strict || groups.length === 1;
  for (const group of groups) {
    if (group.every((c) => /\s/.test(c))) {
      parts.push(String.raw`\s+`);
      continue;
    }
    if (exact) {
      parts.push(group.map((c) => (finalToInitial[c] && !strict ? finalClass(c) : escapeLiteral(c))).join(''));
      continue;
    }
    let unit = '';
    let lastMedial: string | undefined;
    for (const c of group) {
      if (isInitial(c)) unit += `[${tense[c] ?? c}]` + (group.length === 1 ? '(?![\\u1161-\\u1175])' : '');
      else if (isMedial(c)) {
        unit += `[${nearVowel[c] ?? c}]`;
        lastMedial = c;
      } else if (finalToInitial[c]) unit += finalClass(c);
      else unit += escapeLiteral(c);
    }
    // 씨이이발: the vowel held by extra ㅇ-syllables (only after an open syllable).
    if (lastMedial && isMedial(group[group.length - 1]!)) unit += `(?:[~\\-.]{0,2}ᄋ[${nearVowel[lastMedial] ?? lastMedial}](?![\\u11a8-\\u11c2])){0,4}`;
    parts.push(unit);
  }
  if (strict) return parts.join('');
  return parts.join(`${hangulSeparator}{0,3}`);
}

/** Regex source for an English (Latin-script) word. */
function latinSource(word: string, strict: boolean): string {
  const letters = skeletonOf(word).text;
  const parts: string[] = [];
  for (const ch of letters) {
    if (/\s/.test(ch)) {
      parts.push(strict ? String.raw`\s+` : `${latinSeparator}+`);
      continue;
    }
    if (strict) {
      parts.push(escapeLiteral(ch));
      continue;
    }
    const cls = latinClasses[ch];
    parts.push(cls ? `[${escapeClass(cls)}]+` : `${escapeLiteral(ch)}+`);
  }
  if (strict) return parts.join('');
  // Separators between letters (not around a space, which already is one).
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    out += parts[i];
    const next = parts[i + 1];
    if (next && !parts[i]!.startsWith(latinSeparator) && !next.startsWith(latinSeparator)) out += `${latinSeparator}{0,3}`;
  }
  return out;
}

const wordEnding = String.raw`(?:s|es|ed|er|ers|ing|in|z)?`;

/** The regex source for a deny-list word (`strict: false`) or an allow-list word (`strict: true`). */
export function wordSource(word: string, opts: { strict: boolean; wholeWordEnding?: boolean }): string {
  if (containsHangul(word)) return hangulSource(word, opts.strict);
  const src = latinSource(word, opts.strict);
  return opts.wholeWordEnding ? src + wordEnding : src;
}

/**
 * For each letter of a deny-list word, the characters that may stand for it in the skeleton.
 * A text that lacks every character of one of these sets cannot contain the word, so the
 * engine skips that word's regex (most words, for most texts).
 */
export function wordRequirements(word: string): string[] {
  const { text } = skeletonOf(word);
  const out: string[] = [];
  for (const c of text) {
    if (/\s/.test(c)) continue;
    if (!containsHangul(word)) out.push(latinClasses[c] ?? c);
    else if (isInitial(c)) out.push(tense[c] ?? c);
    else if (isMedial(c)) out.push(nearVowel[c] ?? c);
    else if (finalToInitial[c]) out.push(c + finalToInitial[c]);
    else out.push(c);
  }
  return [...new Set(out)];
}
