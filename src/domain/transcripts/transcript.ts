/**
 * A call's words as Parley keeps them: one record per final utterance, with who spoke (from
 * the speaker's credential), when (milliseconds since the room started), the masked text and
 * where it was masked. The unmasked text is never stored.
 */

/** Who a speaker is to the call, taken from their credential, never from the client. */
export type SpeakerRole = 'customer' | 'agent' | 'bot' | 'supervisor' | 'participant';

/** A masked stretch of `text`: characters [start, end) were replaced by `*`. */
export interface MaskedSpan {
  start: number;
  end: number;
  category: string;
}

export interface NewUtterance {
  /** The SFU room the words were spoken in (`call-<id>` for a consultation). */
  roomId: string;
  consultationId: string | null;
  utteranceId: string;
  peerId: string;
  userId: string;
  role: SpeakerRole;
  name: string;
  startMs: number;
  endMs: number;
  /** Masked text. */
  text: string;
  spans: MaskedSpan[];
  /** Where the masked words were said (ms on the room's clock): what a recording bleeps. */
  mediaSpans?: Array<{ startMs: number; endMs: number }>;
  language: string | null;
  engine: string;
  confidence: number | null;
}

export interface Utterance extends NewUtterance {
  id: string;
  createdAt: Date;
}

export interface TranscriptSearch {
  query: string;
  /** Only the consultations this agent answered; undefined = every transcript (admins). */
  agentId?: string;
  limit: number;
  offset: number;
}

/** The storage port of transcripts. */
export interface TranscriptStore {
  add(u: NewUtterance): Promise<Utterance>;
  forConsultation(consultationId: string): Promise<Utterance[]>;
  forRoom(roomId: string): Promise<Utterance[]>;
  search(q: TranscriptSearch): Promise<{ hits: Utterance[]; total: number }>;
}
