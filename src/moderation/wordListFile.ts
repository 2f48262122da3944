/**
 * The operator's word list (MODERATION_WORDS_PATH), a JSON file:
 *
 *   { "deny":  [{ "word": "멍게", "category": "insult" }, { "word": "frak", "category": "profanity", "boundary": "word" }],
 *     "allow": ["시발택시", "Dick Tracy"] }
 *
 * Both keys are optional. `deny` adds to the built-in list; `allow` adds words inside which
 * nothing is masked (it may also take a built-in word out: allow the word itself).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { categories, type WordList } from './types.js';

const word = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

export const wordListFileSchema = z
  .object({
    deny: z
      .array(z.object({ word, category: z.enum(categories), boundary: z.enum(['word', 'prefix', 'infix']).optional() }).strict())
      .max(10_000)
      .default([]),
    allow: z.array(word).max(10_000).default([]),
  })
  .strict();

/** Reads and validates the file; throws an Error whose message names the file and the problem. */
export async function readWordListFile(path: string): Promise<WordList> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`MODERATION_WORDS_PATH: cannot read ${path} (${err instanceof Error ? err.message : String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new Error(`MODERATION_WORDS_PATH: ${path} is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = wordListFileSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`)
      .join('; ');
    throw new Error(`MODERATION_WORDS_PATH: ${path} is not a word list (${detail}); see docs/moderation.md`);
  }
  return parsed.data;
}
