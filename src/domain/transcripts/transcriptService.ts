/**
 * Who may read which transcript: a consultation's transcript is its agent's and admins'; an
 * open room's is admins'. Search runs over what the viewer may read.
 */
import { hasRole, type Identity } from '../../auth/identity.js';
import { ParleyError } from '../../errors.js';
import type { CallRepository } from '../../storage/callRepository.js';
import type { NewUtterance, TranscriptStore, Utterance } from './transcript.js';
import { exportTranscript, type TranscriptFormat } from './transcriptExport.js';

export class TranscriptService {
  constructor(
    private readonly store: TranscriptStore,
    private readonly calls: Pick<CallRepository, 'find'>,
  ) {}

  /** A final utterance heard in a room (masked already). */
  record(u: NewUtterance): Promise<Utterance> {
    return this.store.add(u);
  }

  async forConsultation(viewer: Identity, consultationId: string): Promise<Utterance[]> {
    await this.assertMayRead(viewer, consultationId);
    return this.store.forConsultation(consultationId);
  }

  async forRoom(viewer: Identity, roomId: string): Promise<Utterance[]> {
    if (!hasRole(viewer, 'admin')) throw new ParleyError('FORBIDDEN', "only admins read an open room's transcript");
    return this.store.forRoom(roomId);
  }

  async export(viewer: Identity, consultationId: string, format: TranscriptFormat): Promise<string> {
    return exportTranscript(await this.forConsultation(viewer, consultationId), format);
  }

  async search(viewer: Identity, query: string, page: { limit: number; offset: number }): Promise<{ hits: Utterance[]; total: number }> {
    if (!hasRole(viewer, 'agent')) throw new ParleyError('FORBIDDEN', 'sign in as an agent or admin to search transcripts');
    return this.store.search({ query, ...page, agentId: hasRole(viewer, 'admin') ? undefined : viewer.userId });
  }

  private async assertMayRead(viewer: Identity, consultationId: string): Promise<void> {
    const call = await this.calls.find(consultationId);
    if (!call || call.channel !== 'consultation') throw new ParleyError('NOT_FOUND', `no consultation ${consultationId}`);
    if (hasRole(viewer, 'admin')) return;
    if (hasRole(viewer, 'agent') && call.agentId === viewer.userId) return;
    throw new ParleyError('FORBIDDEN', `consultation ${consultationId} is not yours`);
  }
}
