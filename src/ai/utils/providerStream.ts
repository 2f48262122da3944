/**
 * What every streamed provider answer shares (an LLM's chunks, a TTS's frames): an async queue the
 * provider fills and the consumer iterates, an abort that reaches the provider through `signal`
 * (linked to the caller's own signal), errors wrapped as ProviderError under the provider's label,
 * and the time from the request to the first output.
 */
import { AsyncQueue } from './asyncQueue.js';
import { ProviderError } from '../providerError.js';

export abstract class ProviderStream<T> implements AsyncIterable<T> {
  readonly #queue = new AsyncQueue<T>();
  readonly #abort = new AbortController();
  readonly #startedAt = performance.now();
  #firstAt: number | undefined;

  constructor(
    readonly label: string,
    signal?: AbortSignal,
  ) {
    if (signal) {
      if (signal.aborted) this.abort();
      else signal.addEventListener('abort', () => this.abort(), { once: true });
    }
  }

  /** Fires when the consumer aborted: providers stop their request on it. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get aborted(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Milliseconds from the request to the first output; undefined until some arrived. */
  protected get firstOutputMs(): number | undefined {
    return this.#firstAt === undefined ? undefined : this.#firstAt - this.#startedAt;
  }

  /** Queues one item for the consumer; `first` marks it as output for the first-output time. */
  protected put(item: T, first = true): void {
    if (first) this.#firstAt ??= performance.now();
    this.#queue.put(item);
  }

  end(): void {
    this.#queue.close();
  }

  fail(error: unknown): void {
    if (this.#abort.signal.aborted) return this.#queue.close();
    this.#queue.fail(error instanceof ProviderError ? error : new ProviderError('engine_failed', this.label, (error as Error).message, true, { cause: error }));
  }

  abort(): void {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort();
    this.#queue.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.#queue;
  }
}
