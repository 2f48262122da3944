/**
 * A local stand-in for OpenAI's `POST /v1/chat/completions` (with `stream: true`: server-sent events of
 * `chat.completion.chunk`, tool-call deltas split across events, `data: [DONE]`) and `POST /v1/audio/speech`
 * (`response_format: "pcm"`: raw 24 kHz s16le, sent in chunks). Bound to 127.0.0.1 only. Behaviours: ok, slow
 * (delay before the first event), an OpenAI-shaped error, a hang.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ChatBehaviour =
  | { kind: 'text'; deltas: string[]; delayMs?: number }
  | { kind: 'tool'; text?: string; name: string; argumentParts: string[] }
  | { kind: 'error'; status: number; message: string }
  | { kind: 'hang' };

export type SpeechBehaviour = { kind: 'tone'; seconds: number; delayMs?: number } | { kind: 'error'; status: number; message: string } | { kind: 'hang' };

export interface ReceivedChat {
  readonly authorization: string | undefined;
  readonly body: { model: string; stream: boolean; messages: Array<{ role: string; content: string | null; tool_calls?: unknown[]; tool_call_id?: string }>; tools?: Array<{ type: string; function: { name: string } }> };
}

export interface ReceivedSpeech {
  readonly authorization: string | undefined;
  readonly body: { model: string; input: string; voice: string; response_format: string };
}

export interface OpenAIAgentServer {
  readonly baseUrl: string;
  readonly chats: ReceivedChat[];
  readonly speeches: ReceivedSpeech[];
  /** What the next chat requests get (a queue; the last one repeats). */
  chat(...b: ChatBehaviour[]): void;
  speech(...b: SpeechBehaviour[]): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sse(res: ServerResponse, obj: unknown): void {
  res.write(`data: ${JSON.stringify(obj)}\n\n`);
}

function chunk(id: string, model: string, delta: Record<string, unknown>, finish: string | null = null) {
  return { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, system_fingerprint: 'fp_test', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
}

export async function startOpenAIAgentServer(): Promise<OpenAIAgentServer> {
  const chats: ReceivedChat[] = [];
  const speeches: ReceivedSpeech[] = [];
  let chatPlan: ChatBehaviour[] = [{ kind: 'text', deltas: ['Hello.'] }];
  let speechPlan: SpeechBehaviour[] = [{ kind: 'tone', seconds: 0.5 }];
  const hanging = new Set<ServerResponse>();
  const next = <T>(plan: T[]): T => (plan.length > 1 ? plan.shift()! : plan[0]!);

  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const authorization = req.headers.authorization;
      if (req.method === 'POST' && req.url === '/v1/chat/completions') {
        const body = JSON.parse(raw) as ReceivedChat['body'];
        chats.push({ authorization, body });
        const b = next(chatPlan);
        if (b.kind === 'hang') return void hanging.add(res);
        if (b.kind === 'error') {
          res.writeHead(b.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: b.message, type: 'server_error', param: null, code: null } }));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        const id = `chatcmpl-${chats.length}`;
        if (b.kind === 'text' && b.delayMs) await sleep(b.delayMs);
        sse(res, chunk(id, body.model, { role: 'assistant', content: '' }));
        if (b.kind === 'text') {
          for (const d of b.deltas) {
            sse(res, chunk(id, body.model, { content: d }));
            await sleep(2);
          }
          sse(res, chunk(id, body.model, {}, 'stop'));
        } else {
          if (b.text) sse(res, chunk(id, body.model, { content: b.text }));
          sse(res, chunk(id, body.model, { tool_calls: [{ index: 0, id: 'call_abc123', type: 'function', function: { name: b.name, arguments: '' } }] }));
          for (const p of b.argumentParts) sse(res, chunk(id, body.model, { tool_calls: [{ index: 0, function: { arguments: p } }] }));
          sse(res, chunk(id, body.model, {}, 'tool_calls'));
        }
        res.end('data: [DONE]\n\n');
        return;
      }
      if (req.method === 'POST' && req.url === '/v1/audio/speech') {
        const body = JSON.parse(raw) as ReceivedSpeech['body'];
        speeches.push({ authorization, body });
        const b = next(speechPlan);
        if (b.kind === 'hang') return void hanging.add(res);
        if (b.kind === 'error') {
          res.writeHead(b.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: b.message, type: 'invalid_request_error', param: null, code: null } }));
          return;
        }
        if (b.delayMs) await sleep(b.delayMs);
        res.writeHead(200, { 'content-type': 'audio/pcm', 'transfer-encoding': 'chunked' });
        const n = Math.round(24_000 * b.seconds);
        const pcm = Buffer.alloc(n * 2);
        for (let i = 0; i < n; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24_000)), i * 2);
        // Odd-sized chunks, as a real stream may cut a sample in two.
        for (let o = 0; o < pcm.length; o += 4801) res.write(pcm.subarray(o, Math.min(pcm.length, o + 4801)));
        res.end();
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `Unknown request URL: ${req.method} ${req.url}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } }));
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    chats,
    speeches,
    chat: (...b) => {
      chatPlan = b;
    },
    speech: (...b) => {
      speechPlan = b;
    },
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
