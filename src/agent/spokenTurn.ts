/**
 * One spoken message of a seed 001 call to the AI agent, whichever way it arrived (the `conversation/process` upload
 * or the `/signaling` `audio-data` stream): the speech is recognised, answered with the call's history, its
 * sentiment analysed, the turn appended to the call's history, and the answer spoken as a WAV data URL — seed 001's
 * `{conversation: {userMessage, aiResponse, sentiment, timestamp}, audioUrl}`.
 *
 * Failures are `SpokenTurnError`s with an HTTP status and a code, so each edge answers them in its own shape.
 */
import type { Speech } from '../ai/createSpeech.js';
import { isProviderError } from '../ai/providerError.js';
import { encodeWav } from '../ai/utils/pcm.js';
import type { Logger } from '../log/logger.js';
import { Resampler } from '../media/audio/resampler.js';
import type { AgentEngines } from './agentEngines.js';

export interface SpokenTurnResult {
  conversation: { userMessage: string; aiResponse: string; sentiment: { sentiment: 'positive' | 'neutral' | 'negative'; score: number }; timestamp: string };
  /** The answer spoken (`data:audio/wav;base64,…`); null when there is no voice or it failed. */
  audioUrl: string | null;
}

export class SpokenTurnError extends Error {
  constructor(
    readonly status: 413 | 422 | 503,
    readonly code: 'PAYLOAD_TOO_LARGE' | 'NO_SPEECH' | 'AGENT_UNAVAILABLE' | 'SPEECH_UNAVAILABLE' | 'SPEECH_FAILED',
    message: string,
  ) {
    super(message);
  }
}

/** The longest message answered in one turn. */
export const MAX_SPOKEN_SECONDS = 120;

export interface SpokenTurnDeps {
  /** The agent's engines; undefined when the agent could not start. */
  readonly agent: () => AgentEngines | undefined;
  /** Speech recognition; undefined while it is off or not started yet. */
  readonly speech: () => Speech | undefined;
}

export async function answerSpokenTurn(
  deps: SpokenTurnDeps,
  input: { callId: string; samples: Int16Array; sampleRate: number; systemPrompt?: string },
  log: Pick<Logger, 'warn'>,
): Promise<SpokenTurnResult> {
  if (input.samples.length / input.sampleRate > MAX_SPOKEN_SECONDS) throw new SpokenTurnError(413, 'PAYLOAD_TOO_LARGE', `audio is longer than ${MAX_SPOKEN_SECONDS} s; send one spoken message at a time`);
  const agent = deps.agent();
  const speech = deps.speech();
  if (!agent) throw new SpokenTurnError(503, 'AGENT_UNAVAILABLE', 'the AI agent did not start; see the server log for the engine to install or configure');
  if (!speech) throw new SpokenTurnError(503, 'SPEECH_UNAVAILABLE', 'speech recognition is off (STT_ENGINE); set it to pocketsphinx, sherpa-onnx or openai');

  const rate = speech.stt.capabilities.sampleRate;
  const samples = resample(input.samples, input.sampleRate, rate);
  let userText: string;
  let language: string | undefined;
  try {
    const heard = await speech.stt.recognize({ samples, sampleRate: rate, startMs: 0 }, { signal: AbortSignal.timeout(30_000) });
    userText = heard.text.trim();
    language = heard.language;
  } catch (e) {
    log.warn({ err: e }, 'AI agent: recognition of a spoken message failed');
    throw new SpokenTurnError(503, 'SPEECH_FAILED', `speech recognition failed: ${isProviderError(e) ? e.message : 'engine error'}; try again`);
  }
  if (!userText) throw new SpokenTurnError(422, 'NO_SPEECH', 'no speech was recognised in the audio; record closer to the microphone and send it again');

  const conversation = agent.conversationFor();
  const reply = await conversation.reply({ callId: input.callId, userText, language, systemPrompt: input.systemPrompt });
  await conversation.record(reply, input.callId, reply.transfer ? 'transferred' : reply.failure ? 'failed' : 'answered');

  let audioUrl: string | null = null;
  if (agent.tts && reply.aiResponse) {
    try {
      const pcm = await agent.tts.synthesize(reply.aiResponse, { language: reply.language, signal: AbortSignal.timeout(30_000) }).collect();
      audioUrl = `data:audio/wav;base64,${encodeWav({ samples: pcm, sampleRate: agent.tts.capabilities.sampleRate, startMs: 0 }).toString('base64')}`;
    } catch (e) {
      log.warn({ err: e }, 'AI agent: speech synthesis failed; answering text only');
    }
  }
  return {
    conversation: { userMessage: reply.userMessage, aiResponse: reply.aiResponse, sentiment: reply.sentiment, timestamp: reply.timestamp.toISOString() },
    audioUrl,
  };
}

export function resample(samples: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return samples;
  const r = new Resampler(from, to);
  const a = r.process(samples);
  const b = r.flush();
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
