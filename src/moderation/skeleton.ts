/**
 * The text the matcher reads: a "skeleton" of the input in which every position remembers the
 * UTF-16 index of the input character it came from, so a match on the skeleton is a span of
 * the original text.
 *
 * - Latin and look-alikes: NFKC (full-width, mathematical letters), lower case, diacritics
 *   dropped, Cyrillic and Greek homoglyphs to their Latin twins (`а`→`a`, `ο`→`o`).
 * - Hangul: each syllable is split into its conjoining jamo (initial U+1100…, medial U+1161…,
 *   final U+11A8…), and a typed compatibility jamo (`ㅅ`, `ㅣ`) becomes the initial or medial it
 *   stands for, so `시발`, `ㅅㅣㅂㅏㄹ` and `ㅅㅂ` can all be compared with one pattern, and an
 *   initial never meets the final of the syllable before it.
 * - Digits, symbols and spaces are kept as they are: the patterns decide what they may stand for.
 */

/** Cyrillic and Greek letters that are drawn like Latin ones. */
const homoglyphs: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', ı: 'i',
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w',
};

const compatConsonants = 'ㄱㄲㄳㄴㄵㄶㄷㄸㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅃㅄㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ';
const initials = 'ᄀᄁᄂᄃᄄᄅᄆᄇᄈᄉᄊᄋᄌᄍᄎᄏᄐᄑᄒ';
/** Compatibility consonant → conjoining initial (clusters that only exist as finals → that final). */
const compatToJamo = new Map<string, string>();
for (const c of compatConsonants) {
  const asInitial = 'ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ'.indexOf(c);
  if (asInitial >= 0) compatToJamo.set(c, initials[asInitial]!);
  else compatToJamo.set(c, (c + '').normalize('NFKD'));
}
// Vowels ㅏ (U+314F) … ㅣ (U+3163) are the medials U+1161 … U+1175 in the same order.
for (let cp = 0x314f; cp <= 0x3163; cp++) compatToJamo.set(String.fromCodePoint(cp), String.fromCodePoint(0x1161 + cp - 0x314f));

export interface Skeleton {
  /** The normalized text. */
  text: string;
  /** For each skeleton position, the UTF-16 index of the input character it came from. */
  source: number[];
}

const latinCache = new Map<string, string>();

function foldLatin(ch: string): string {
  let out = latinCache.get(ch);
  if (out !== undefined) return out;
  const k = ch.normalize('NFKC').toLowerCase();
  let first = k.length > 0 ? [...k][0]! : ch;
  first = first.normalize('NFD')[0] ?? first;
  out = homoglyphs[first] ?? first;
  if (latinCache.size < 4096) latinCache.set(ch, out);
  return out;
}

export function isHangulSyllable(code: number): boolean {
  return code >= 0xac00 && code <= 0xd7a3;
}

/** Builds the skeleton of `input` (see the module comment). */
export function skeletonOf(input: string): Skeleton {
  let text = '';
  const source: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const code = input.charCodeAt(i);
    if (code < 0x80) {
      // ASCII fast path.
      text += code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : input[i]!;
      source.push(i);
    } else if (isHangulSyllable(code)) {
      const jamo = input[i]!.normalize('NFD');
      for (let j = 0; j < jamo.length; j++) source.push(i);
      text += jamo;
    } else if (code >= 0x3131 && code <= 0x3163) {
      text += compatToJamo.get(input[i]!) ?? input[i]!;
      source.push(i);
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < input.length) {
      // Astral characters (mathematical letters, emoji): fold as a pair, keep both positions.
      const pair = input.slice(i, i + 2);
      const folded = foldLatin(pair);
      if (folded.length === 1) {
        text += folded + '\u200b';
      } else {
        text += pair;
      }
      source.push(i, i + 1);
      i++;
    } else {
      text += foldLatin(input[i]!).slice(0, 1) || input[i]!;
      source.push(i);
    }
  }
  return { text, source };
}
