/**
 * What integrators hear about calls: every transition of the call state machine becomes one
 * `call.status_changed` event, in the order the moves happened. Consultations add their
 * consultation view (customer, agent, entry point, inquiry), which a CRM needs and seed
 * 001's call object does not carry.
 */
import type { CallService } from '../domain/calls/callService.js';
import type { ConsultationView } from '../domain/consultations/consultationView.js';
import type { Logger } from '../log/logger.js';
import type { CallRecord } from '../storage/callRepository.js';
import type { WebhookService } from './webhookService.js';

export interface CallWebhookDeps {
  calls: CallService;
  webhooks: WebhookService;
  /** Seed 001's JSON view of a call. */
  callJson(call: CallRecord): Record<string, unknown>;
  consultationView(call: CallRecord): Promise<ConsultationView>;
  logger: Logger;
}

export function publishCallTransitions({ calls, webhooks, callJson, consultationView, logger }: CallWebhookDeps): void {
  // The consultation view is read asynchronously; chaining keeps events in transition order.
  let chain: Promise<void> = Promise.resolve();
  calls.on('transition', (call, t) => {
    chain = chain.then(async () => {
      try {
        if (!(await webhooks.hasSubscribers('call.status_changed'))) return;
        const consultation = call.channel === 'consultation' ? await consultationView(call) : undefined;
        await webhooks.publish('call.status_changed', { call: callJson(call), ...(consultation ? { consultation } : {}), from: t.from, to: t.to, cause: t.cause });
      } catch (err) {
        logger.error({ err, callId: call.id }, 'could not queue the webhook');
      }
    });
  });
}
