/**
 * Context rules (types.ts `ContextRule`): whether the words around a match give a listed Latin-script word its
 * clean sense. The allow list handles fixed phrases (`garden hoe`); these rules handle the cases where the telling
 * word may stand a few words away (`my tranny is slipping, new transmission fluid`) or where only the writing
 * shows a name (`Dick Cheney`). They read the skeleton (skeleton.ts), so look-alikes and case are folded the same
 * way as for the match, and the original text only for capitals.
 */
import type { Skeleton } from './skeleton.js';
import type { ContextRule } from './types.js';

interface CompiledRule {
  near: Set<string>;
  /** Any of `near` anywhere in the skeleton: most matches have none, and then the text need not be split into words. */
  nearAnywhere: RegExp | undefined;
  window: number;
  atLeast: number;
  asName: boolean;
  unless: string[];
}

interface Token {
  start: number;
  end: number;
  word: string;
}

/** A word of the skeleton: Latin letters, digits and inner apostrophes (`how's`). */
const tokenPattern = /[a-z0-9]+(?:'[a-z]+)*/g;

export class ContextRules {
  private readonly byWord = new Map<string, CompiledRule[]>();

  constructor(rules: readonly ContextRule[]) {
    for (const r of rules) {
      const compiled: CompiledRule = {
        near: new Set((r.near ?? []).map((w) => w.toLowerCase())),
        nearAnywhere: r.near && r.near.length > 0 ? new RegExp(`(?<![a-z0-9])(?:${r.near.map((w) => w.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(?![a-z0-9])`) : undefined,
        window: r.window ?? 6,
        atLeast: r.atLeast ?? 1,
        asName: r.asName ?? false,
        unless: (r.unless ?? []).map((p) => p.toLowerCase()),
      };
      for (const w of r.words) {
        const key = w.trim().toLowerCase();
        this.byWord.set(key, [...(this.byWord.get(key) ?? []), compiled]);
      }
    }
  }

  /** Whether any rule has something to say about this deny-list entry (checked once per entry, not per match). */
  has(word: string): boolean {
    return this.byWord.has(word);
  }

  /**
   * True when a rule of `word` clears the match at skeleton positions [start, end) of a text whose skeleton is
   * `sk` and whose original is `text`. `words` gives the skeleton's word list, built by the caller at most once per text.
   */
  clears(word: string, text: string, sk: Skeleton, words: () => readonly Token[], start: number, end: number): boolean {
    const rules = this.byWord.get(word);
    if (!rules) return false;
    return rules.some((r) => {
      if (r.nearAnywhere && !r.nearAnywhere.test(sk.text)) return false;
      if (r.unless.some((p) => overlaps(sk.text, p, start, end))) return false;
      const tokens = words();
      const at = tokens.findIndex((t) => t.end > start);
      if (at < 0) return false;
      if (r.asName) return writtenAsName(text, sk, tokens, at, start, end);
      return nearEnough(r, tokens, at, start, end);
    });
  }
}

export type { Token };

/** The skeleton's words with their positions. */
export function tokensOf(skeletonText: string): Token[] {
  const out: Token[] = [];
  tokenPattern.lastIndex = 0;
  for (let m = tokenPattern.exec(skeletonText); m !== null; m = tokenPattern.exec(skeletonText)) {
    out.push({ start: m.index, end: m.index + m[0].length, word: m[0] });
  }
  return out;
}

function overlaps(s: string, phrase: string, start: number, end: number): boolean {
  for (let i = s.indexOf(phrase); i >= 0; i = s.indexOf(phrase, i + 1)) {
    if (i < end && start < i + phrase.length) return true;
  }
  return false;
}

function nearEnough(r: CompiledRule, tokens: readonly Token[], at: number, start: number, end: number): boolean {
  const from = r.window === 0 ? 0 : Math.max(0, at - r.window);
  const to = r.window === 0 ? tokens.length : Math.min(tokens.length, at + r.window + 1);
  const seen = new Set<string>();
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    // The matched word itself never counts as its own context.
    if (t.start < end && start < t.end) continue;
    if (r.near.has(t.word)) seen.add(t.word);
    if (seen.size >= r.atLeast) return true;
  }
  return false;
}

const capitalised = /^[A-Z][a-z]+(?:'s)?$/;
const startsCapital = /^[A-Z]/;

function writtenAsName(text: string, sk: Skeleton, tokens: readonly Token[], at: number, start: number, end: number): boolean {
  const original = (t: { start: number; end: number }) => text.slice(sk.source[t.start]!, sk.source[t.end - 1]! + 1);
  if (!capitalised.test(original({ start, end }))) return false;
  // "Suck My Dick" is an insult written in title case, not a name: a name needs some word around it in small letters.
  if (!tokens.some((t) => /^[a-z]/.test(original(t)))) return false;
  const neighbour = (t: Token | undefined) => t !== undefined && startsCapital.test(original(t));
  return neighbour(tokens[at - 1]) || neighbour(tokens[at + 1]);
}
