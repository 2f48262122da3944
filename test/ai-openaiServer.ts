/**
 * A local stand-in for OpenAI's `POST /v1/audio/transcriptions` that speaks its wire format: multipart form data in
 * (parsed by the platform's own `Request.formData()`), `verbose_json` or OpenAI-shaped errors out. Bound to
 * 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeWav } from '../src/ai/utils/pcm.js';

export interface ReceivedTranscription {
  readonly model: string;
  readonly language: string | null;
  readonly responseFormat: string | null;
  readonly granularities: string[];
  readonly authorization: string | undefined;
  readonly fileName: string;
  readonly sampleRate: number;
  readonly seconds: number;
}

export type Behaviour =
  | { kind: 'ok'; text: string; language: string; words?: Array<{ word: string; start: number; end: number }> }
  | { kind: 'error'; status: number; message: string; type: string; code: string | null }
  | { kind: 'hang' };

export interface OpenAITestServer {
  readonly baseUrl: string;
  readonly received: ReceivedTranscription[];
  /** What the next requests get (a queue; the last one repeats). */
  behave(...b: Behaviour[]): void;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startOpenAIServer(): Promise<OpenAITestServer> {
  const received: ReceivedTranscription[] = [];
  let plan: Behaviour[] = [{ kind: 'ok', text: '', language: 'english' }];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await body(req);
      if (req.method !== 'POST' || req.url !== '/v1/audio/transcriptions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `Unknown request URL: ${req.method} ${req.url}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } }));
        return;
      }
      const form = await new Request('http://127.0.0.1/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: new Uint8Array(raw) }).formData();
      const file = form.get('file');
      if (!(file instanceof File)) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: "Missing required parameter: 'file'.", type: 'invalid_request_error', param: 'file', code: null } }));
        return;
      }
      const wav = decodeWav(Buffer.from(await file.arrayBuffer()));
      received.push({
        model: String(form.get('model')),
        language: form.get('language') as string | null,
        responseFormat: form.get('response_format') as string | null,
        granularities: form.getAll('timestamp_granularities[]').map(String),
        authorization: req.headers.authorization,
        fileName: file.name,
        sampleRate: wav.sampleRate,
        seconds: wav.samples.length / wav.sampleRate,
      });
      const b = plan.length > 1 ? plan.shift()! : plan[0]!;
      if (b.kind === 'hang') return; // never answers; the client's timeout must fire
      if (b.kind === 'error') {
        res.writeHead(b.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: b.message, type: b.type, param: null, code: b.code } }));
        return;
      }
      const duration = wav.samples.length / wav.sampleRate;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          task: 'transcribe',
          language: b.language,
          duration,
          text: b.text,
          segments: [{ id: 0, seek: 0, start: 0, end: duration, text: b.text, tokens: [1], temperature: 0, avg_logprob: -0.2, compression_ratio: 1.1, no_speech_prob: 0.01 }],
          ...(b.words ? { words: b.words } : {}),
        }),
      );
    })().catch((e: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: String(e), type: 'server_error', param: null, code: null } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    received,
    behave: (...b) => {
      plan = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A 127.0.0.1 port with nothing listening. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
