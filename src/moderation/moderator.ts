/**
 * The moderation service: the built-in word list plus the operator's file, compiled into one
 * MaskingEngine, and rebuilt when the file changes (no restart). A file that cannot be read or
 * is not a valid list keeps the engine that was in use and logs why.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../log/logger.js';
import { builtInWords } from './builtInWords.js';
import { MaskingEngine } from './maskingEngine.js';
import type { MaskResult, ModerationLanguage, TextMasker, TimedMaskResult, TimedWord, WordList } from './types.js';
import { readWordListFile } from './wordListFile.js';

export interface ModeratorOptions {
  /** MODERATION_WORDS_PATH: the operator's allow and deny lists (JSON, docs/moderation.md). */
  wordsPath?: string;
  logger: Logger;
  /** How long file events settle before the file is read again (editors write in steps). Default 100 ms. */
  reloadDebounceMs?: number;
}

export interface ModeratorEvents {
  /** The file was read and the new engine is in use. */
  reloaded: [{ deny: number; allow: number }];
  /** The file was bad: the previous engine stays in use. */
  'reload-failed': [Error];
}

function merge(a: WordList, b: WordList): WordList {
  return { deny: [...a.deny, ...b.deny], allow: [...a.allow, ...b.allow], context: [...(a.context ?? []), ...(b.context ?? [])] };
}

export class Moderator extends EventEmitter<ModeratorEvents> implements TextMasker {
  private engine: MaskingEngine;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();

  private constructor(
    private readonly opts: ModeratorOptions,
    engine: MaskingEngine,
  ) {
    super();
    this.engine = engine;
  }

  /**
   * Builds the engine. A bad file at start is an error naming the file (the server should not
   * start with a list the operator did not mean); later bad edits only log.
   */
  static async open(opts: ModeratorOptions): Promise<Moderator> {
    const path = opts.wordsPath ? resolve(opts.wordsPath) : undefined;
    const extra = path ? await readWordListFile(path) : { deny: [], allow: [] };
    const moderator = new Moderator({ ...opts, wordsPath: path }, new MaskingEngine(merge(builtInWords, extra)));
    if (path) moderator.watch(path);
    opts.logger.info({ words: moderator.engine.size, wordsPath: path ?? null }, path ? `moderation: built-in words plus ${path} (reloaded on change)` : 'moderation: built-in words (set MODERATION_WORDS_PATH to add allow and deny lists)');
    return moderator;
  }

  mask(text: string, language?: ModerationLanguage): MaskResult {
    return this.engine.mask(text, language);
  }

  maskTimedWords(words: readonly TimedWord[], language?: ModerationLanguage): TimedMaskResult {
    return this.engine.maskTimedWords(words, language);
  }

  /** Reads the file now (also what a change of the file triggers). */
  reload(): Promise<void> {
    const path = this.opts.wordsPath;
    if (!path) return Promise.resolve();
    this.reading = this.reading.then(async () => {
      try {
        const engine = new MaskingEngine(merge(builtInWords, await readWordListFile(path)));
        this.engine = engine;
        this.opts.logger.info({ words: engine.size, wordsPath: path }, 'moderation: word list reloaded');
        this.emit('reloaded', engine.size);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        this.opts.logger.warn({ wordsPath: path, err: error.message }, `moderation: kept the previous word list: ${error.message}`);
        this.emit('reload-failed', error);
      }
    });
    return this.reading;
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Watches the directory, not the file: editors and `mv` replace the file, which ends a file watch. */
  private watch(path: string): void {
    const name = basename(path);
    try {
      this.watcher = watch(dirname(path), (_event, changed) => {
        if (changed !== null && changed !== name) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.reload(), this.opts.reloadDebounceMs ?? 100);
      });
      this.watcher.on('error', (err) => this.opts.logger.warn({ wordsPath: path, err: err.message }, 'moderation: stopped watching the word list; restart to pick up changes'));
    } catch (err) {
      this.opts.logger.warn({ wordsPath: path, err: err instanceof Error ? err.message : String(err) }, 'moderation: cannot watch the word list; changes need a restart');
    }
  }
}
