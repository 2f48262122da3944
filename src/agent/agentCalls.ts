/**
 * AI calls from a browser (the `/ai/` page, and what an entry point answered by the bot uses): each is a fresh SFU
 * room `ai-<uuid>` with one `AgentSession` in it, waiting for the caller. Bounded: at most `maxSessions` at once,
 * a session with no caller after `joinTimeoutMs` or older than `maxDurationMs` ends, so an anonymous client cannot
 * keep bots (and their speech engines) busy.
 */
import { randomUUID } from 'node:crypto';
import type { STT } from '../ai/stt.js';
import { ParleyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { RoomMedia } from '../sfu/roomMedia.js';
import type { AgentEngines } from './agentEngines.js';
import type { AgentMetrics } from './agentMetrics.js';
import { AgentSession, type AgentCaption, type AgentSessionDeps } from './agentSession.js';

export interface AgentCallsDeps {
  readonly rooms: { room(roomId: string): Promise<RoomMedia> };
  readonly tracks: AgentSessionDeps['tracks'];
  readonly engines: AgentEngines;
  /** Speech recognition; the AI call needs it. */
  readonly stt: () => STT | undefined;
  readonly metrics?: AgentMetrics;
  readonly logger: Logger;
  readonly publish: (roomId: string, caption: AgentCaption) => void;
  readonly record: (roomId: string, caption: AgentCaption) => Promise<unknown>;
  /** Each finished turn (its sentiment and outcome) for the live views of supervisors. */
  readonly onTurn?: (roomId: string, turn: { outcome: string; userMessage: string; aiResponse: string; sentiment: { sentiment: string; score: number } }) => void;
  /** The bot decided to hand the caller to a person (its tool, or a failing provider), with the conversation so far. */
  readonly onTransfer?: (roomId: string, handover: { reason: string; lines: readonly AgentCaption[] }) => void;
  /** The session ended (`reason` as AgentSession's `closed`), with its final lines. */
  readonly onClosed?: (roomId: string, reason: string, lines: readonly AgentCaption[]) => void;
  readonly maxSessions: number;
  readonly joinTimeoutMs?: number;
  readonly maxDurationMs?: number;
}

export interface StartedAgentCall {
  readonly roomId: string;
  readonly botPeerId: string;
  readonly language: string;
  readonly session: AgentSession;
}

export class AgentCalls {
  readonly #d: AgentCallsDeps;
  readonly #sessions = new Map<string, AgentSession>();
  /** Each session's final lines (both sides, as spoken / recognised), for the hand-over to a person. */
  readonly #lines = new Map<string, AgentCaption[]>();

  constructor(deps: AgentCallsDeps) {
    this.#d = deps;
  }

  get size(): number {
    return this.#sessions.size;
  }

  session(roomId: string): AgentSession | undefined {
    return this.#sessions.get(roomId);
  }

  async start(input: { language?: 'ko' | 'en'; systemPrompt?: string; entryPointId?: string; roomId?: string } = {}): Promise<StartedAgentCall> {
    const stt = this.#d.stt();
    if (!this.#d.engines.tts) throw new ParleyError('SHUTTING_DOWN', 'the AI agent has no voice (AGENT_TTS=none); set AGENT_TTS=espeak');
    if (!stt) throw new ParleyError('SHUTTING_DOWN', 'speech recognition is off (STT_ENGINE=none); the AI agent cannot listen');
    if (this.#sessions.size >= this.#d.maxSessions) throw new ParleyError('RESOURCE_EXHAUSTED', `all ${this.#d.maxSessions} AI agent lines are busy; try again in a minute`);
    const roomId = input.roomId ?? `ai-${randomUUID()}`;
    const room = await this.#d.rooms.room(roomId);
    const conversation = this.#d.engines.conversationFor(input.entryPointId);
    const language = input.language ?? 'ko';
    const session = new AgentSession(
      {
        room,
        tracks: this.#d.tracks,
        stt,
        conversation,
        tts: this.#d.engines.tts,
        metrics: this.#d.metrics,
        logger: this.#d.logger.child({ roomId }),
        publish: (c) => {
          if (c.isFinal) this.#lines.get(roomId)?.push(c);
          this.#d.publish(roomId, c);
        },
        record: (c) => this.#d.record(roomId, c),
      },
      { callId: roomId, language: input.language, systemPrompt: input.systemPrompt, greeting: this.#d.engines.greeting(input.entryPointId, language) },
    );
    this.#sessions.set(roomId, session);
    this.#lines.set(roomId, []);
    session.on('transfer', (t) => this.#d.onTransfer?.(roomId, { reason: t.reason, lines: [...(this.#lines.get(roomId) ?? [])] }));
    session.on('turn', (t) => this.#d.onTurn?.(roomId, { outcome: t.outcome, userMessage: t.userMessage, aiResponse: t.aiResponse, sentiment: t.sentiment }));
    const joinTimer = setTimeout(() => {
      if (!session.hasCaller) void session.close('no-caller');
    }, this.#d.joinTimeoutMs ?? 60_000);
    const maxTimer = setTimeout(() => void session.close('max-duration'), this.#d.maxDurationMs ?? 30 * 60_000);
    session.once('closed', (reason) => {
      clearTimeout(joinTimer);
      clearTimeout(maxTimer);
      const lines = this.#lines.get(roomId) ?? [];
      this.#sessions.delete(roomId);
      this.#lines.delete(roomId);
      this.#d.onClosed?.(roomId, reason, lines);
    });
    try {
      await session.start();
    } catch (err) {
      await session.close('start-failed');
      throw err;
    }
    return { roomId, botPeerId: session.botPeerId, language, session };
  }

  /** Whether a bot line is free (the engines are up and fewer than `maxSessions` talk now). */
  canStart(): boolean {
    return this.#d.engines.tts !== undefined && this.#d.stt() !== undefined && this.#sessions.size < this.#d.maxSessions;
  }

  /** The bot leaves the room (a person took the call over, the call ended). */
  leave(roomId: string, reason: string): void {
    void this.#sessions.get(roomId)?.close(reason);
  }

  /** The caller left the room: the bot leaves too. */
  callerLeft(roomId: string): void {
    void this.#sessions.get(roomId)?.close('caller-left');
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((s) => s.close('shutdown')));
  }
}
