/**
 * espeak-ng (Debian `espeak-ng`) as the embedded text-to-speech engine: one process per sentence, the text on its
 * standard input (never on the command line, so no text can be read as an option), a WAV stream on its standard
 * output read as it is produced. Voices per language (`ko`, `en-us` by default); 22 050 Hz mono.
 */
import { spawn } from 'node:child_process';
import { ProviderError } from '../providerError.js';
import { ChunkedStream, TTS, type SynthesizeOptions, type TTSCapabilities } from '../tts.js';

export interface EspeakTTSOptions {
  /** The binary; default `espeak-ng` on PATH. */
  readonly binary?: string;
  /** Voice per language; defaults ko → `ko`, en → `en-us`. */
  readonly voices?: Readonly<Record<string, string>>;
  /** Language when the caller names none. Default `ko`. */
  readonly defaultLanguage?: string;
  /** Words per minute (espeak's `-s`). Default 165. */
  readonly wordsPerMinute?: number;
  /** Longest one sentence may take. Default 10 000 ms. */
  readonly timeoutMs?: number;
}

const HEADER_BYTES = 44;
const SAMPLE_RATE = 22_050;

export class EspeakTTS extends TTS {
  readonly label = 'espeak-ng';
  readonly capabilities: TTSCapabilities;
  readonly #o: Required<EspeakTTSOptions>;

  constructor(options: EspeakTTSOptions = {}) {
    super();
    this.#o = { binary: 'espeak-ng', defaultLanguage: 'ko', wordsPerMinute: 165, timeoutMs: 10_000, ...options, voices: { ko: 'ko', en: 'en-us', ...options.voices } };
    this.capabilities = { sampleRate: SAMPLE_RATE, languages: Object.keys(this.#o.voices) };
  }

  synthesize(text: string, options: SynthesizeOptions = {}): ChunkedStream {
    const out = new ChunkedStream(this.label, SAMPLE_RATE, options.signal);
    const lang = (options.language ?? this.#o.defaultLanguage).toLowerCase().split('-')[0]!;
    const voice = this.#o.voices[lang] ?? this.#o.voices[this.#o.defaultLanguage] ?? 'en-us';
    const child = spawn(this.#o.binary, ['--stdout', '-b', '1', '-v', voice, '-s', String(this.#o.wordsPerMinute)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      out.fail(new ProviderError('timeout', this.label, `espeak-ng took longer than ${this.#o.timeoutMs} ms for ${text.length} characters`, true));
    }, this.#o.timeoutMs);
    const stop = () => child.kill('SIGKILL');
    out.signal.addEventListener('abort', stop, { once: true });
    let header = Buffer.alloc(0);
    let odd: Buffer | undefined;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      let b = chunk;
      if (header.length < HEADER_BYTES) {
        const need = HEADER_BYTES - header.length;
        header = Buffer.concat([header, b.subarray(0, need)]);
        b = b.subarray(need);
        if (b.length === 0) return;
      }
      if (odd) {
        b = Buffer.concat([odd, b]);
        odd = undefined;
      }
      if (b.length % 2 === 1) {
        odd = b.subarray(b.length - 1);
        b = b.subarray(0, b.length - 1);
      }
      const samples = new Int16Array(b.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = b.readInt16LE(i * 2);
      out.pushPcm(samples);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 500) stderr += c.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      out.fail(
        e.code === 'ENOENT'
          ? new ProviderError('package_missing', this.label, `${this.#o.binary} is not installed: apt-get install espeak-ng (scripts/install-system-deps.sh)`, false, { cause: e })
          : new ProviderError('engine_failed', this.label, e.message, true, { cause: e }),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      out.signal.removeEventListener('abort', stop);
      if (out.signal.aborted) return;
      if (code === 0) out.end();
      else out.fail(new ProviderError('engine_failed', this.label, `espeak-ng exited with ${code ?? signal}: ${stderr.trim().slice(0, 200)}`, true));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(text.replace(/\s+/g, ' '));
    return out;
  }
}
