/**
 * The AI assistant as consultations, captions and transcripts see it (issue 11), kept out of the
 * composition root:
 * - `assistantPort`: the port ConsultationService calls (ai_first / ai_overflow): the bot joins the
 *   consultation's own room `call-<id>` and leaves it;
 * - `agentCallHooks`: what AgentCalls reports back — the bot's and the caller's lines labelled,
 *   masked, published to whoever may hear them and stored; each turn (with the caller's sentiment)
 *   for supervisors; a transfer, or a bot that leaves on its own, handed to the human queue with the
 *   conversation so far.
 */
import type { Caption } from '../captions/captionService.js';
import { publishCaption, type CaptionAudience } from '../captions/captionWiring.js';
import type { AiAssistant, ConsultationService } from '../domain/consultations/consultationService.js';
import type { HandoverLine } from '../domain/consultations/consultationView.js';
import { consultationRoomName } from '../domain/roomRef.js';
import type { NewUtterance } from '../domain/transcripts/transcript.js';
import type { Logger } from '../log/logger.js';
import type { ModerationLanguage, TextMasker } from '../moderation/types.js';
import type { AgentCalls, AgentCallsDeps } from './agentCalls.js';
import type { AgentCaption } from './agentSession.js';

/** The bot's account-less speaker identity in captions and transcripts. */
const BOT = { userId: 'ai-agent', role: 'bot' as const, name: 'AI assistant' };

/** Bots leave for these reasons without a hand-over: a person took the call, or it ended. */
const LEAVES_WITHOUT_HANDOVER = new Set(['handed-over', 'call-ended', 'shutdown']);

const moderationLanguage = (language: string | undefined): ModerationLanguage | undefined => (language === 'ko' || language === 'en' ? language : undefined);

/** The consultation side's AI assistant port, implemented by AgentCalls (absent while the agent's engines are off). */
export function assistantPort(agentCalls: () => AgentCalls | undefined, language: string): AiAssistant {
  const lang = language === 'en' || language === 'ko' ? language : undefined;
  return {
    canAnswer: () => agentCalls()?.canStart() ?? false,
    answer: async (_id, input) => {
      const calls = agentCalls();
      if (!calls) throw new Error('the AI agent is off');
      await calls.start({ roomId: input.roomId, entryPointId: input.entryPointId ?? undefined, systemPrompt: input.systemPrompt ?? undefined, language: lang });
    },
    leave: (id, reason) => agentCalls()?.leave(consultationRoomName(id), reason),
  };
}

/** A turn as supervisors see it (`agent:turn` on /admin): the caller's words masked. */
export interface AgentTurnReport {
  roomId: string;
  consultationId: string | null;
  outcome: string;
  userMessage: string;
  aiResponse: string;
  sentiment: { sentiment: string; score: number };
}

export interface ConsultationAgentDeps {
  consultations: Pick<ConsultationService, 'consultationIdOfRoom' | 'handOverFromAssistant' | 'assistantOn'>;
  masker: TextMasker;
  /** Whether the room's caption service already captions its customer (then the bot's own recognition is not repeated). */
  captionsOn(roomId: string): boolean;
  /** Who receives a consultation room's captions. */
  audience: CaptionAudience;
  /** An `ai-<uuid>` room's peers (the /ai/ page). */
  voiceCaption(roomId: string, fromPeerId: string, caption: Caption): void;
  store(utterance: NewUtterance): Promise<unknown>;
  reportTurn(turn: AgentTurnReport): void;
  logger: Logger;
}

export function agentCallHooks(d: ConsultationAgentDeps): Pick<AgentCallsDeps, 'publish' | 'record' | 'onTurn' | 'onTransfer' | 'onClosed'> {
  const captionOf = (c: AgentCaption, consultationId: string | null): Caption => {
    const masked = c.role === 'bot' ? { masked: c.text, spans: [] } : d.masker.mask(c.text, moderationLanguage(c.language));
    const who = c.role === 'bot' ? BOT : { userId: consultationId ? `customer-${consultationId}` : c.peerId, role: 'customer' as const, name: 'Caller' };
    return { ...c, ...who, text: masked.masked, maskedSpans: masked.spans.map((x) => ({ start: x.start, end: x.end, category: x.category })) };
  };
  /** In a consultation's room the caption service may already caption the customer. */
  const repeated = (roomId: string, consultationId: string | null, c: AgentCaption) => consultationId !== null && c.role === 'customer' && d.captionsOn(roomId);
  const handOverLines = (lines: readonly AgentCaption[]): HandoverLine[] =>
    lines.map((l) => ({ role: l.role, text: l.role === 'bot' ? l.text : d.masker.mask(l.text, moderationLanguage(l.language)).masked, at: new Date().toISOString() }));
  const consultationOf = (roomId: string) => d.consultations.consultationIdOfRoom(roomId) ?? null;
  return {
    onTurn: (roomId, t) => d.reportTurn({ roomId, consultationId: consultationOf(roomId), ...t, userMessage: d.masker.mask(t.userMessage).masked }),
    publish: (roomId, c) => {
      const consultationId = consultationOf(roomId);
      if (repeated(roomId, consultationId, c)) return;
      const caption = captionOf(c, consultationId);
      if (consultationId) publishCaption(d.audience, roomId, caption, consultationId);
      else d.voiceCaption(roomId, c.peerId, caption);
    },
    record: async (roomId, c) => {
      const consultationId = consultationOf(roomId);
      if (repeated(roomId, consultationId, c)) return;
      const x = captionOf(c, consultationId);
      return d.store({ roomId, consultationId, utteranceId: x.utteranceId, peerId: x.peerId, userId: x.userId, role: x.role, name: x.name, startMs: x.startMs, endMs: x.endMs, text: x.text, spans: x.maskedSpans, language: x.language, engine: x.engine, confidence: null });
    },
    // The bot hands a consultation's caller to a person: the queue, with the conversation so far (masked).
    onTransfer: (roomId, h) => {
      const consultationId = consultationOf(roomId);
      if (!consultationId) return;
      void d.consultations
        .handOverFromAssistant(consultationId, { reason: h.reason, transcript: handOverLines(h.lines) })
        .catch((err: unknown) => d.logger.error({ err, consultationId }, 'the AI assistant could not hand the call over'));
    },
    // A bot that leaves on its own (the caller never came, a failure) hands the consultation over rather than leave it alone.
    onClosed: (roomId, reason, lines) => {
      const consultationId = consultationOf(roomId);
      if (!consultationId || LEAVES_WITHOUT_HANDOVER.has(reason) || !d.consultations.assistantOn(consultationId)) return;
      void d.consultations
        .handOverFromAssistant(consultationId, { reason: `assistant-left:${reason}`, transcript: handOverLines(lines) })
        .catch((err: unknown) => d.logger.warn({ err, consultationId }, 'the AI assistant left and the call could not be handed over'));
    },
  };
}
