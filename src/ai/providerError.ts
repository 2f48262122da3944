/**
 * The one error type speech providers throw (after LiveKit agents-js' `APIError`): a code a caller can branch on,
 * the engine that failed, and whether trying again (this engine later, or the next one now) can help.
 */
export type ProviderErrorCode =
  /** A package, shared library or binary the engine needs is not installed. */
  | 'package_missing'
  /** A model file or directory the engine needs is not there. */
  | 'model_missing'
  /** Configuration that cannot work (a bad model type, a missing key). */
  | 'misconfigured'
  /** The engine did not answer in time. */
  | 'timeout'
  /** The endpoint could not be reached (refused, DNS, reset). */
  | 'unreachable'
  /** The endpoint answered with an error status. */
  | 'http_error'
  /** The endpoint answered with something that is not the documented shape. */
  | 'bad_response'
  /** Audio the engine cannot take (wrong sample rate or channel count). */
  | 'unsupported_audio'
  /** The engine itself failed while recognising. */
  | 'engine_failed'
  /** Every engine of a fallback chain failed. */
  | 'all_failed'
  /** The stream or provider was closed. */
  | 'closed';

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly code: ProviderErrorCode,
    readonly engine: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
  }
  /** HTTP status from a remote engine, when there was one. */
  readonly status: number | undefined;
}

export function isProviderError(e: unknown): e is ProviderError {
  return e instanceof ProviderError;
}
