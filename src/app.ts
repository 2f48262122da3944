/**
 * The composition root: config → storage → auth → HTTP routes → socket namespaces.
 * Every dependency is built here and passed down explicitly; nothing else news up services.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { Server as SocketServer } from 'socket.io';
import { AccountService } from './auth/accountService.js';
import { allOf, ExternalAuthenticator, ExternalRoomAccessPolicy, GrantRoomAccessPolicy, TokenAuthenticator, type RoomAccessPolicy } from './auth/authenticator.js';
import { ApiKeyTokenVerifier, IdentityProviderVerifier, type ForeignTokenVerifier } from './auth/foreignTokens.js';
import { describePosture } from './config/posture.js';
import { metricsGate, openMetrics } from './http/metricsAccess.js';
import { TokenService } from './auth/tokens.js';
import type { Config } from './config/config.js';
import { RoomDirectory } from './domain/roomDirectory.js';
import { AuthHooks } from './http/authHooks.js';
import { clientAddress, describeTrustProxy, trustFunction } from './http/clientAddress.js';
import { SignInThrottle } from './auth/signInThrottle.js';
import { securityHeaders } from './http/securityHeaders.js';
import { pageRedirects } from './http/routes/pageRoutes.js';
import { installErrorHandling, rateLimitedReply } from './http/errorHandling.js';
import { authRoutes } from './http/routes/authRoutes.js';
import { callConfigRoutes } from './http/routes/callConfigRoutes.js';
import { callRoutes } from './http/routes/callRoutes.js';
import { conversationRoutes } from './http/routes/conversationRoutes.js';
import { createAgentEngines, type AgentEngines } from './agent/agentEngines.js';
import { SessionAudioAgent } from './agent/sessionAudioAgent.js';
import { AgentTurnRepository } from './storage/agentTurnRepository.js';
import { AgentCalls } from './agent/agentCalls.js';
import { agentCallHooks, assistantPort } from './agent/consultationAgent.js';
import { consultationRoomName } from './domain/roomRef.js';
import { isLive as isLiveCall } from './domain/calls/callStatus.js';
import { AgentMetrics } from './agent/agentMetrics.js';
import { agentRoutes } from './http/routes/agentRoutes.js';
import type { Speech } from './ai/createSpeech.js';
import { CallService } from './domain/calls/callService.js';
import { ASSISTANT, ConsultationService, type AiAssistant } from './domain/consultations/consultationService.js';
import { LocalDurableTimers, type TimerClock } from './cluster/durableTimers.js';
import { CallRepository } from './storage/callRepository.js';
import { NodeLiveness } from './cluster/nodeLiveness.js';
import { openCluster } from './cluster/cluster.js';
import { refuseNewWorkDuringOutage } from './cluster/outageGate.js';
import { redisLimiters } from './cluster/redis/rateLimitStore.js';
import { rateLimitRedis } from './cluster/redis/httpRateLimitStore.js';
import { LocalLiveBoard, RedisLiveBoard, type LiveBoard } from './cluster/liveBoard.js';
import { openConsultationQueue, SharedConsultationQueue } from './cluster/sharedQueue.js';
import { LocalRoomPlacement, RedisRoomPlacement, type RoomPlacement } from './cluster/roomPlacement.js';
import { relayRevocations } from './cluster/revocationRelay.js';
import { replicateRooms, type RoomReplication } from './cluster/roomReplication.js';
import { NodeRepository } from './storage/nodeRepository.js';
import { createSpeech } from './ai/createSpeech.js';
import { CaptionService, type CaptionStatus } from './captions/captionService.js';
import { captionsOnJoin, publishCaption, publishCaptionStatus, speakerOf, type CaptionStatusEvent } from './captions/captionWiring.js';
import { AudioPipeline } from './media/audio/audioPipeline.js';
import { TranscriptRepository } from './storage/transcriptRepository.js';
import { TranscriptService } from './domain/transcripts/transcriptService.js';
import { transcriptRoutes } from './http/routes/transcriptRoutes.js';
import { ConsultationRepository } from './storage/consultationRepository.js';
import { EntryPointRepository } from './storage/entryPointRepository.js';
import { consultationRoutes } from './http/routes/consultationRoutes.js';
import { entryPointRoutes } from './http/routes/entryPointRoutes.js';
import { webhookRoutes } from './http/routes/webhookRoutes.js';
import { callJson } from './http/routes/callRoutes.js';
import { WebhookService } from './webhooks/webhookService.js';
import { RetentionPruner } from './retention/retentionPruner.js';
import { publishCallTransitions } from './webhooks/callWebhooks.js';
import { attachConsultNamespace } from './socket/consultNamespace.js';
import { endRevokedConnections } from './socket/connectionRevocation.js';
import { healthRoutes } from './http/routes/healthRoutes.js';
import { tokenRoutes } from './http/routes/tokenRoutes.js';
import { moderationRoutes } from './http/routes/moderationRoutes.js';
import { recordingRoutes } from './http/routes/recordingRoutes.js';
import { createRecordings } from './recording/recordingWiring.js';
import { recordConsultations } from './recording/consultationRecording.js';
import type { RecordingService } from './domain/recordings/recordingService.js';
import { Moderator } from './moderation/moderator.js';
import { userRoutes } from './http/routes/userRoutes.js';
import { IceServerProvider } from './ice/iceServers.js';
import type { Logger } from './log/logger.js';
import { Metrics } from './metrics/metrics.js';
import { attachAdminNamespace } from './socket/adminNamespace.js';
import { EventRouter } from './socket/eventRouter.js';
import { handshakeAuthMiddleware, identityOf } from './socket/handshakeAuth.js';
import { attachSignalingNamespace, type SessionAudioSink, type SessionMember } from './socket/signalingNamespace.js';
import { attachStudyNamespace, type StudyMember } from './socket/studyNamespace.js';
import { attachVoiceNamespace, type VoiceMember } from './socket/voiceNamespace.js';
import { MediaWorkerPool } from './sfu/mediaWorkerPool.js';
import { openStorage, type Storage, type StorageOptions } from './storage/database.js';
import { AuthSessionRepository } from './storage/authSessionRepository.js';
import { UserRepository } from './storage/userRepository.js';

export interface Parley {
  http: FastifyInstance;
  io: SocketServer;
  storage: Storage;
  metrics: Metrics;
  /** The SFU: media worker threads and the rooms placed on them. */
  media: MediaWorkerPool;
  tokens: TokenService;
  accounts: AccountService;
  calls: CallService;
  consultations: ConsultationService;
  transcripts: TranscriptService;
  webhooks: WebhookService;
  /** This node's heartbeat among the nodes sharing the database (src/cluster). */
  nodeLiveness: NodeLiveness;
  /** Masking for chat, captions and transcripts (issue 10 §5); the word list reloads itself. */
  moderation: Moderator;
  /** Seed 004's recordings of rooms (issue 12). */
  recordings: RecordingService;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  /** Graceful stop: refuse new work, tell every socket, disconnect, close storage. */
  close(reason?: string): Promise<void>;
}

export interface ParleyOverrides {
  /** Storage options beyond the config (tests put PostgreSQL tables in their own schema). */
  storage?: StorageOptions;
  audioSink?: SessionAudioSink;
  /** Tests: the AI assistant consultations hand calls to (instead of the bot), and the AI overflow's timers. */
  assistant?: AiAssistant;
  consultationTimers?: TimerClock;
}

const webRoot = fileURLToPath(new URL('../web/', import.meta.url));

export async function createParley(config: Config, logger: Logger, overrides: ParleyOverrides = {}): Promise<Parley> {
  if (config.auth.jwtSecretGenerated) logger.warn('JWT_SECRET is not set: using a random secret, so tokens stop working when the server restarts. Set JWT_SECRET (openssl rand -hex 32).');

  const storage = await openStorage(overrides.storage ?? config.storage, logger.child({ module: 'storage' }));
  // REDIS_URL: live state shared with the other nodes (src/cluster); otherwise all in memory.
  const cluster = await openCluster(config.cluster, logger.child({ module: 'cluster' }));
  const metrics = new Metrics({ eventLoopResolutionMs: config.metrics.eventLoopResolutionMs });
  const users = new UserRepository(storage.db);
  const sessions = new AuthSessionRepository(storage.db);
  const tokens = new TokenService(config.auth.jwtSecret, config.auth.accessTokenTtlSeconds, config.auth.roomTokenTtlSeconds);
  const accounts = new AccountService(users, sessions, tokens, config.auth.signupOpen, new SignInThrottle(config.edge.signin, cluster.redis ? redisLimiters(cluster.redis) : undefined));
  if (config.edge.firstAdmin) {
    const { email } = config.edge.firstAdmin;
    const outcome = await accounts.ensureAdmin(config.edge.firstAdmin).catch((err: unknown) => {
      logger.error({ email, err: err instanceof Error ? err.message : String(err) }, 'ADMIN_EMAIL: the admin could not be created');
      return 'failed' as const;
    });
    if (outcome === 'created') logger.info({ email }, 'ADMIN_EMAIL: created the first admin (sign in with ADMIN_PASSWORD; you may unset both now)');
    else if (outcome === 'exists') logger.info({ email }, 'ADMIN_EMAIL: an admin exists already; nothing created, no password changed');
  }
  logger.info({ signupOpen: config.auth.signupOpen }, config.auth.signupOpen ? 'sign-up is open: the first account becomes admin, later ones wait for approval' : 'sign-up is closed: admins create accounts');
  // Credentials by issuer: Parley's own tokens, the LiveKit key pair, the integrator's
  // identity provider, then (AUTH_MODE=external) its HTTP verifier for any other token.
  const foreign: ForeignTokenVerifier[] = [];
  if (config.auth.apiKey) foreign.push(new ApiKeyTokenVerifier(config.auth.apiKey.key, config.auth.apiKey.secret));
  if (config.auth.externalJwt) foreign.push(new IdentityProviderVerifier({ ...config.auth.externalJwt, timeoutMs: config.auth.httpTimeoutMs }));
  const external = config.auth.mode === 'external';
  const credentials = new TokenAuthenticator({
    tokens,
    users,
    sessions,
    allowAnonymous: config.auth.allowAnonymousSockets && !external,
    foreign,
    fallback: external ? new ExternalAuthenticator(config.auth.verifyUrl!, config.auth.httpTimeoutMs) : undefined,
  });
  const ice = new IceServerProvider(config.ice);
  const moderation = await Moderator.open({ wordsPath: config.moderation.wordsPath, logger: logger.child({ module: 'moderation' }) });
  const callRepo = new CallRepository(storage.db);
  const transcripts = new TranscriptService(new TranscriptRepository(storage.db, storage.kind), callRepo);
  const calls = new CallService(callRepo, config.defaultPhoneRegion, config.cluster.nodeId);
  const webhooks = new WebhookService(storage.db, logger.child({ module: 'webhooks' }), config.webhooks);
  // One queue over every node with REDIS_URL: the routing owner's (src/cluster/sharedQueue.ts).
  const queue = await openConsultationQueue({
    redis: cluster.redis,
    bus: cluster.bus,
    nodeId: config.cluster.nodeId,
    queue: { offerTimeoutMs: config.consult.offerTimeoutMs, defaultHandleTimeMs: config.consult.defaultHandleTimeMs, reofferCooldownMs: config.consult.reoffer.cooldownMs, offerResendMs: config.consult.reoffer.offerResendMs },
    leaseMs: config.cluster.ttlMs,
    renewMs: config.cluster.heartbeatMs,
    logger: logger.child({ module: 'routing' }),
  });
  const consultations = new ConsultationService({
    calls,
    callRepo,
    repo: new ConsultationRepository(storage.db),
    entryPoints: new EntryPointRepository(storage.db),
    users,
    tokens,
    queue,
    logger: logger.child({ module: 'consultations' }),
    publicUrl: config.publicUrl,
    agentGraceMs: config.consult.agentGraceMs,
    queueShared: cluster.shared,
    customerGraceMs: config.consult.customerGraceMs,
    presence: cluster.presence,
    timers: cluster.timers,
    customerTokenTtlSeconds: config.auth.roomTokenTtlSeconds,
    // AI-first and AI-overflow entry points (issue 11): the bot joins the consultation's own room.
    overflowTimers: overrides.consultationTimers ? new LocalDurableTimers(logger.child({ module: 'consultations' }), overrides.consultationTimers) : undefined,
    assistant: overrides.assistant ?? assistantPort(() => agentCalls, config.speech.language),
  });
  // A line no snapshot holds any more (Redis and every node restarted) is rebuilt from the database.
  if (queue instanceof SharedConsultationQueue) {
    await queue.recoverWith(() => consultations.waitingInStorage());
    // A new routing owner takes out of the line it inherits the calls storage no longer has waiting.
    await queue.checkWith((waiting) => consultations.notWaitingInStorage(waiting));
  }
  publishCallTransitions({ calls, webhooks, callJson, consultationView: (call) => consultations.view(call), logger });
  // Only this node's previous run and nodes gone silent lose their calls (issue 13).
  const liveness = new NodeLiveness({ nodeId: config.cluster.nodeId, directory: new NodeRepository(storage.db), calls, heartbeatMs: config.cluster.heartbeatMs, ttlMs: config.cluster.ttlMs, logger: logger.child({ module: 'cluster' }),
    // A consultation waiting in the shared queue is on no node: it outlives the node its customer reached.
    keep: cluster.shared ? { keeps: (c) => c.channel === 'consultation' && c.status === 'RINGING' && queue.position(c.id) !== undefined, adopted: (c) => consultations.customerMayBeGone(c.id) } : undefined,
  });
  await liveness.start();
  webhooks.start();
  const pruner = new RetentionPruner(storage.db, config.retention, logger.child({ module: 'retention' }));
  pruner.start();

  // Every join passes the credential's grant, then a consultation's own rule for its SFU
  // room (its customer, its agent, admins), then the integrator's membership check.
  const consultationRooms: RoomAccessPolicy = { assertCanJoin: async (identity, target) => (target.kind === 'voice' ? consultations.assertCanJoinRoom(identity, target.id) : undefined) };
  const access = allOf([
    new GrantRoomAccessPolicy(),
    consultationRooms,
    ...(external ? [new ExternalRoomAccessPolicy(config.auth.membershipCheckUrl, config.auth.httpTimeoutMs)] : []),
  ]);

  // Rooms of every surface live in the domain; the namespaces only translate.
  const studyRooms = new RoomDirectory<StudyMember>();
  const sessionRooms = new RoomDirectory<SessionMember>();
  const voiceRooms = new RoomDirectory<VoiceMember>();
  // An SFU room lives on one node: the first join pins it there (src/cluster/roomPlacement.ts).
  const placement: RoomPlacement = cluster.redis
    ? new RedisRoomPlacement(cluster.redis, config.cluster.nodeId, { heartbeatMs: config.cluster.heartbeatMs, ttlMs: config.cluster.ttlMs, logger: logger.child({ module: 'cluster' }) })
    : new LocalRoomPlacement(config.cluster.nodeId);
  // An accepted consultation's room goes to the node with the fewest rooms before its members join.
  calls.on('transition', (call, t) => {
    if (call.channel !== 'consultation' || t.to !== 'CONNECTING' || !call.roomId || !cluster.redis) return;
    placement.place(call.roomId).then(
      (node) => logger.info({ consultationId: call.id, roomId: call.roomId, node }, 'consultation room placed'),
      (err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err), consultationId: call.id }, 'consultation room not placed; it stays on the node its first member reaches'),
    );
  });
  voiceRooms.on('left', (room) => {
    if (voiceRooms.members(room).length === 0) void placement.release(room.slice('voice:'.length));
  });
  voiceRooms.on('joined', (room) => {
    const present = voiceRooms.members(room).flatMap((m) => {
      const socket = voiceNs.sockets.get(m.connectionId);
      return socket ? [identityOf(socket)] : [];
    });
    void consultations.roomMembership(room.slice('voice:'.length), present).catch((err: unknown) => logger.error({ err, room }, 'consultation media bookkeeping failed'));
  });
  const media = new MediaWorkerPool(
    config.media.workers,
    { transport: { listenIp: config.media.listenIp, announcedIp: config.media.announcedIp, portRange: config.media.portRange }, audioLevelIntervalMs: 250, limits: config.media.limits, ...(config.media.workerNice !== undefined ? { nice: config.media.workerNice } : {}) },
    logger.child({ module: 'media' }),
  );
  metrics.observeMedia(() => media.dump());
  let draining = false;

  // One TRUST_PROXY rule for HTTP and sockets: `clientAddress(socket.request, trustProxy)` (src/http/clientAddress.ts).
  const trustProxy = trustFunction(config.edge.trustProxy);
  // Entry tokens (JWTs, ~300 characters) travel as path parameters: raise the 100-character default.
  const http = Fastify({ loggerInstance: logger.child({ module: 'http' }) as FastifyBaseLogger, bodyLimit: 256 * 1024, trustProxy, forceCloseConnections: 'idle', routerOptions: { maxParamLength: 2048 } }).withTypeProvider<ZodTypeProvider>();
  http.setValidatorCompiler(validatorCompiler);
  http.setSerializerCompiler(serializerCompiler);
  installErrorHandling(http);
  logger.info({ trustProxy: config.edge.trustProxy }, describeTrustProxy(config.edge.trustProxy));
  await http.register(helmet, securityHeaders);

  const corsOrigin = config.cors.origins.includes('*') ? true : config.cors.origins;
  await http.register(cors, { origin: corsOrigin, credentials: true });
  await http.register(rateLimit, {
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowMs,
    errorResponseBuilder: rateLimitedReply,
    // REDIS_URL: one count per client over every node (the plugin's own Redis store); while
    // Redis is away requests are let through rather than refused (new calls are refused by the outage gate).
    ...(cluster.redis ? { redis: rateLimitRedis(cluster.redis), nameSpace: `${cluster.redis.keyPrefix}http-rl:`, skipOnError: true } : {}),
  });
  await http.register(swagger, {
    openapi: {
      info: { title: 'Parley API', version: '0.1.0', description: 'REST surface of Parley. Socket.IO protocols are described in the README.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: jsonSchemaTransform,
  });
  await http.register(swaggerUi, { routePrefix: '/api/docs' });

  http.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  http.addHook('onRequest', async (_req, reply) => {
    if (draining) reply.header('connection', 'close');
  });

  refuseNewWorkDuringOutage(http, () => cluster.redisState() === 'unreachable');
  const authHooks = new AuthHooks(credentials);
  const io = new SocketServer(http.server, {
    cors: { origin: corsOrigin, credentials: true },
    maxHttpBufferSize: config.socketMaxPayloadBytes,
    serveClient: true,
    ...(cluster.socketAdapter ? { adapter: cluster.socketAdapter } : {}),
  });

  const healthSource = {
    connections: () => io.engine.clientsCount,
    rooms: () => [...studyRooms.summary(), ...sessionRooms.summary(), ...voiceRooms.summary()],
    checkStorage: () => storage.ping(config.health.storageTimeoutMs),
    storageState: () => storage.health().state,
    draining: () => draining,
    node: () => liveness.health(),
    redis: () => cluster.redisState(),
  };

  const gate = metricsGate({ posture: config.posture, token: config.metrics.token, ownListener: config.metrics.listener !== undefined, authenticator: credentials });
  await http.register(healthRoutes({ source: healthSource, metrics, metricsGate: gate }));
  await http.register(tokenRoutes({ tokens, authenticator: credentials, allowAnonymous: config.auth.allowAnonymousRoomTokens, apiKey: config.auth.apiKey }));
  await http.register(authRoutes({ accounts, auth: authHooks }), { prefix: '/api/v1/auth' });
  await http.register(userRoutes({ accounts, auth: authHooks }), { prefix: '/api/v1/users' });
  await http.register(callConfigRoutes({ ice, auth: authHooks }), { prefix: '/api/v1/calls' });
  await http.register(callRoutes({ calls, auth: authHooks, allowAnonymous: config.auth.allowAnonymousCalls }), { prefix: '/api/v1/calls' });
  // AI voice agent (issue 11): engines now, speech once it started below.
  let agentEngines: AgentEngines | undefined;
  const agentTurns = new AgentTurnRepository(storage.db);
  try {
    agentEngines = createAgentEngines(config.agent, agentTurns, logger.child({ module: 'agent' }));
  } catch (err) {
    logger.warn({ err }, 'AI agent is off: its engines could not start');
  }
  let agentSpeech: Speech | undefined;
  let agentCalls: AgentCalls | undefined;
  await http.register(agentRoutes({ agentCalls: () => agentCalls, turns: agentTurns, auth: authHooks, allowAnonymous: config.auth.allowAnonymousCalls, startsPerMinute: 10 }), { prefix: '/api/v1/agent' });
  await http.register(conversationRoutes({ calls, auth: authHooks, allowAnonymous: config.auth.allowAnonymousCalls, agent: () => agentEngines, speech: () => agentSpeech, requestsPerMinute: 30 }), { prefix: '/api/v1/calls' });
  await http.register(entryPointRoutes({ consultations, auth: authHooks }), { prefix: '/api/v1' });
  await http.register(transcriptRoutes({ transcripts, auth: authHooks }), { prefix: '/api/v1' });
  await http.register(consultationRoutes({ consultations, auth: authHooks, startsPerMinute: config.consult.startsPerMinute }), { prefix: '/api/v1/consultations' });
  await http.register(webhookRoutes({ webhooks, auth: authHooks }), { prefix: '/api/v1/webhooks' });
  await http.register(moderationRoutes({ moderation, authenticator: credentials, allowAnonymous: config.moderation.allowAnonymous, apiKey: config.auth.apiKey }), { prefix: '/api/v1/moderation' });
  await http.register(pageRedirects);
  await http.register(fastifyStatic, { root: webRoot, prefix: '/', index: ['index.html'] });

  // Seed 001's `audio-data` stream answered by the AI agent, like conversation/process.
  const sessionAudio = new SessionAudioAgent({ calls, agent: () => agentEngines, speech: () => agentSpeech, vad: () => agentSpeech?.vad, logger: logger.child({ module: 'agent-audio-data' }) });
  const handshake = handshakeAuthMiddleware(credentials, logger.child({ module: 'socket-auth' }), () => draining);
  const routerFor = (namespace: string) =>
    new EventRouter({
      namespace,
      limiter: new RateLimiterMemory({ points: config.rateLimit.socketEventsPerSecond, duration: 1 }),
      logger: logger.child({ module: 'socket', namespace }),
      metrics,
    });

  const defaultNs = io.of('/');
  defaultNs.use(handshake);
  attachStudyNamespace({ namespace: defaultNs, rooms: studyRooms, access, router: routerFor('/'), metrics, logger: logger.child({ module: 'study-ns' }), moderation });

  const signalingNs = io.of('/signaling');
  signalingNs.use(handshake);
  attachSignalingNamespace({
    namespace: signalingNs,
    rooms: sessionRooms,
    access,
    router: routerFor('/signaling'),
    metrics,
    logger: logger.child({ module: 'signaling-ns' }),
    audioSink: overrides.audioSink ?? sessionAudio,
    audioNeedsAgent: !config.auth.allowAnonymousCalls,
  });

  const voiceNs = io.of('/voice');
  voiceNs.use(handshake);
  // Live captions (issue 10): consultations' calls, rooms that ask for them. Set below once speech started.
  let captions: CaptionService | undefined;
  // The last caption-status per consultation, for a dashboard opened mid-call (/admin captions:status); bounded.
  const lastCaptionStatus = new Map<string, CaptionStatusEvent>();
  const announceCaptions = (roomId: string, status: CaptionStatus, consultationId: string | null) =>
    publishCaptionStatus(
      {
        room: (r, e) => voice.emitToRoom(r, 'caption-status', e),
        consultation: (id, e) => {
          consultNs.to(`consult:${id}`).emit('caption-status', e);
          const agentId = consultations.agentOf(id);
          if (agentId) consultNs.to(`agent:${agentId}`).emit('caption-status', e);
        },
        admins: (id, e) => {
          lastCaptionStatus.delete(id);
          lastCaptionStatus.set(id, e);
          if (lastCaptionStatus.size > 1000) lastCaptionStatus.delete(lastCaptionStatus.keys().next().value as string);
          adminNs.emit('caption-status', e);
        },
      },
      roomId,
      status,
      consultationId,
    );
  const voice = attachVoiceNamespace({
    onJoined: (roomId, identity, request) => {
      const consultationId = consultations.consultationIdOfRoom(roomId) ?? null;
      void (async () => {
        const entryPointCaptions = consultationId ? await consultations.captionsSettingOf(consultationId) : undefined;
        const next = captionsOnJoin(config.speech.captions, { configured: config.speech.engines.length > 0, ready: captions !== undefined }, { consultationId, entryPointCaptions }, identity, request);
        if (!next.enable) return next.announce && announceCaptions(roomId, next.announce, consultationId);
        await captions?.enable(roomId, consultationId);
        const now = captions?.statusOf(roomId);
        if (now) announceCaptions(roomId, now, consultationId);
      })().catch((err: unknown) => logger.warn({ err, roomId }, 'captions could not start for this room'));
    },
    placement, namespace: voiceNs, rooms: voiceRooms, access, router: routerFor('/voice'), media, metrics, logger: logger.child({ module: 'voice-ns' }), limits: config.media.limits, clientAddress: (socket) => clientAddress(socket.request, trustProxy), isAccountId: async (id) => (await users.findById(id)) !== undefined, policy: consultations.mediaPolicy });

  // Recordings (issue 12): read through direct consumers by the recorder thread, mixed by ffmpeg.
  const recordings = createRecordings({
    config: config.recordings,
    db: storage.db,
    dialect: storage.kind,
    media,
    settleCaptions: async (roomName, timeoutMs, heardUntil) => (captions ? captions.settle(roomName, timeoutMs, heardUntil) : { settled: true, waitedMs: 0, open: 0 }),
    captionGraceMs: config.recordings.captionGraceMs,
    // A consultation's recording outlives an emptied room while its call is live (a lone customer's reload).
    holdMs: async (roomName) => {
      const id = consultations.consultationIdOfRoom(roomName);
      const call = id ? await callRepo.find(id) : undefined;
      return call && isLiveCall(call.status) ? config.consult.customerGraceMs : 0;
    },
    isLive: (roomName) => voiceRooms.members(`voice:${roomName}`).length > 0,
    // The AI assistant's voice is a direct producer, not a /voice peer: its track is named after it.
    speakerOf: (roomId, peerId) =>
      agentCalls?.session(roomId)?.botPeerId === peerId
        ? { userId: ASSISTANT.agentId, name: ASSISTANT.name, role: 'bot' as const }
        : speakerOf({ identityOf: (p) => voice.identityOf(p), consultationOf: (r) => consultations.consultationIdOfRoom(r), seatOf: (id, who) => consultations.mediaPolicy.seatOf(id, who) }, roomId, peerId),
    consultationAgent: async (id) => {
      const call = await callRepo.find(id);
      return call && call.channel === 'consultation' ? { agentId: call.agentId } : undefined;
    },
    logger: logger.child({ module: 'recordings' }),
  });
  await recordings.service.startUp(config.retention.intervalMs);
  const recordingAgents = new Map<string, string>();
  const consultationRecording = recordConsultations({
    recordings: recordings.service,
    enabled: config.recordings.consultations,
    consented: async (id) => (await callRepo.find(id))?.recordingConsent === true,
    settingOf: (id) => consultations.recordingSettingOf(id),
    tell: (id, state) => {
      consultNs.to(`consult:${id}`).emit('recording', state);
      // The agent who had the call hears the end of its recording too, when it is finished after the call.
      const agentId = consultations.agentOf(id) ?? recordingAgents.get(id);
      if (agentId) consultNs.to(`agent:${agentId}`).emit('recording', state);
      if (state.status === 'recording' || state.status === 'finalizing') {
        if (agentId) recordingAgents.set(id, agentId);
      } else recordingAgents.delete(id);
    },
    logger: logger.child({ module: 'recordings' }),
  });
  consultations.on('customer-status', (s) => {
    if (!isLiveCall(s.status)) recordings.service.release(consultationRoomName(s.consultationId));
  });
  voiceRooms.on('joined', (room, member) => {
    const roomName = room.slice('voice:'.length);
    recordings.service.notePeer(roomName, member.peerId);
    consultationRecording.roomJoined(roomName);
  });
  await http.register(recordingRoutes({ recordings: recordings.service, authenticator: credentials, apiKey: config.auth.apiKey }));

  // The board over every node (src/cluster/liveBoard.ts): agents and queues of the others folded in.
  const liveBoard: LiveBoard = cluster.redis
    ? await RedisLiveBoard.open(consultations, cluster.redis, cluster.bus, { heartbeatMs: config.cluster.heartbeatMs, ttlMs: config.cluster.ttlMs, logger: logger.child({ module: 'cluster' }), queueShared: true })
    : new LocalLiveBoard(consultations);
  const adminNs = io.of('/admin');
  adminNs.use(handshake);
  attachAdminNamespace({
    namespace: adminNs,
    router: routerFor('/admin'),
    metrics,
    rooms: healthSource.rooms,
    connections: healthSource.connections,
    board: liveBoard,
    captionStatus: (id) => lastCaptionStatus.get(id),
  });

  const speech = await createSpeech(config.speech, logger.child({ module: 'speech' }));
  let pipeline: AudioPipeline | undefined;
  agentSpeech = speech.speech;
  if (speech.speech) {
    pipeline = new AudioPipeline();
    const tracks = pipeline;
    captions = new CaptionService({
      rooms: media,
      tracks: { read: (consumer, options) => tracks.read(consumer, options) },
      stt: speech.speech.stt,
      masker: moderation,
      language: config.speech.language,
      speakerOf: (roomId, peerId) =>
        speakerOf({ identityOf: (p) => voice.identityOf(p), consultationOf: (r) => consultations.consultationIdOfRoom(r), seatOf: (id, who) => consultations.mediaPolicy.seatOf(id, who) }, roomId, peerId),
      publish: (roomId, caption, consultationId) =>
        publishCaption(
          {
            voice: (r, from, c) => voice.emitHeardFrom(r, from, 'caption', c),
            consultation: (id, c) => {
              if (c.role !== 'supervisor' || consultations.supervision.of(id)?.mode === 'barge') consultNs.to(`consult:${id}`).emit('caption', { consultationId: id, ...c });
              const agentId = consultations.agentOf(id);
              if (agentId) consultNs.to(`agent:${agentId}`).emit('caption', { consultationId: id, ...c });
            },
            admins: (id, c) => adminNs.emit('caption', { consultationId: id, ...c }),
          },
          roomId,
          caption,
          consultationId,
        ),
      record: (u) => transcripts.record(u),
      announce: announceCaptions,
      logger: logger.child({ module: 'captions' }),
    });
    voiceRooms.on('left', (room) => {
      if (voiceRooms.members(room).length === 0) captions?.disable(room.slice('voice:'.length));
    });
    if (agentEngines) {
      const agentTracks = pipeline;
      agentCalls = new AgentCalls({
        rooms: media,
        tracks: { read: (consumer, options) => agentTracks.read(consumer, options) },
        engines: agentEngines,
        stt: () => speech.speech?.stt,
        metrics: new AgentMetrics(metrics.registry),
        logger: logger.child({ module: 'agent' }),
        maxSessions: Math.max(2, config.media.workers * 4),
        ...agentCallHooks({
          consultations,
          masker: moderation,
          captionsOn: (roomId) => captions?.isOn(roomId) ?? false,
          audience: {
            voice: (r, from, x) => voice.emitHeardFrom(r, from, 'caption', x),
            consultation: (id, x) => consultNs.to(`consult:${id}`).emit('caption', { consultationId: id, ...x }),
            admins: (id, x) => adminNs.emit('caption', { consultationId: id, ...x }),
          },
          voiceCaption: (roomId, from, x) => voice.emitHeardFrom(roomId, from, 'caption', x),
          store: (u) => transcripts.record(u),
          // Supervisors see each AI call's turns and the caller's sentiment live (admins only: /admin refuses others).
          reportTurn: (t) => adminNs.emit('agent:turn', t),
          logger: logger.child({ module: 'agent' }),
        }),
      });
      voiceRooms.on('left', (room) => {
        const id = room.slice('voice:'.length);
        if (id.startsWith('ai-') && voiceRooms.members(room).length === 0) agentCalls?.callerLeft(id);
      });
    }
  } else if (config.speech.engines.length > 0) {
    logger.warn({ problems: speech.problems.map((p) => p.message) }, 'captions are off: no speech engine could start (see the messages above for what to install)');
  }

  const consultNs = io.of('/consult');
  consultNs.use(handshake);
  attachConsultNamespace({
    namespace: consultNs, router: routerFor('/consult'), consultations, metrics, logger: logger.child({ module: 'consult-ns' }),
    recordingOf: (id) => {
      const r = recordings.service.activeForConsultation(id);
      return r ? { consultationId: id, status: r.status, name: r.name, failure: r.failure } : undefined;
    },
  });
  // Every node's revocations, so a disabled agent's sockets close wherever they are.
  const revocations = await relayRevocations(accounts, cluster.bus, logger.child({ module: 'cluster' }));
  endRevokedConnections(revocations, [defaultNs, signalingNs, voiceNs, adminNs, consultNs], logger.child({ module: 'socket-auth' }));
  // Seed 002's and seed 001's rooms list every node's members (the SFU's voice rooms are pinned to one node).
  const replications: RoomReplication[] = cluster.shared
    ? await Promise.all([
        // A node gone silent: this node tells its own sockets (`local`: every node does the same for its own).
        replicateRooms('study', studyRooms, cluster.bus, {
          heartbeatMs: config.cluster.heartbeatMs,
          ttlMs: config.cluster.ttlMs,
          logger: logger.child({ module: 'cluster' }),
          onDropped: (_node, dropped) => {
            for (const { room, member } of dropped) {
              if (room.startsWith('video:')) defaultNs.local.to(room).emit('video:user-left', { socketId: member.connectionId, userId: member.userId });
              else if (room.startsWith('study:') && !studyRooms.userStillPresent(room, member.userId)) defaultNs.local.to(room).emit('presence:user-offline', { userId: member.userId, user: member.user, timestamp: new Date().toISOString() });
            }
          },
        }),
        replicateRooms('session', sessionRooms, cluster.bus, {
          heartbeatMs: config.cluster.heartbeatMs,
          ttlMs: config.cluster.ttlMs,
          logger: logger.child({ module: 'cluster' }),
          onDropped: (_node, dropped) => {
            for (const { room, member } of dropped) signalingNs.local.to(room).emit('peer-disconnected', { peerId: member.peerId });
          },
        }),
      ])
    : [];
  // A disabled, reset or withdrawn agent stops being offered calls at once, not after the
  // grace (signing out one tab leaves the others; a new role reconnects).
  revocations.on('revoked', ({ userId, reason }) => {
    if (reason !== 'role-changed' && reason !== 'signed-out') consultations.agentSignedOut(userId);
  });

  // METRICS_PORT: /metrics on a listener of its own (its address is its protection).
  let metricsHttp: FastifyInstance | undefined;
  if (config.metrics.listener) {
    metricsHttp = Fastify({ loggerInstance: logger.child({ module: 'metrics-http' }) as FastifyBaseLogger, forceCloseConnections: true }).withTypeProvider<ZodTypeProvider>();
    metricsHttp.setValidatorCompiler(validatorCompiler);
    metricsHttp.setSerializerCompiler(serializerCompiler);
    installErrorHandling(metricsHttp);
    await metricsHttp.register(healthRoutes({ source: healthSource, metrics, metricsGate: openMetrics, health: false }));
  }

  const posture = describePosture(config);
  logger.info({ posture: posture.posture, anonymous: posture.open }, posture.summary);

  let closing: Promise<void> | undefined;
  return {
    http,
    io,
    storage,
    metrics,
    media,
    tokens,
    accounts,
    calls,
    consultations,
    transcripts,
    webhooks,
    moderation,
    recordings: recordings.service,
    nodeLiveness: liveness,
    async listen() {
      await http.listen({ port: config.port, host: config.host });
      if (metricsHttp && config.metrics.listener) {
        const at = await metricsHttp.listen({ port: config.metrics.listener.port, host: config.metrics.listener.host });
        logger.info({ url: `${at}/metrics` }, `metrics served on ${at}/metrics`);
      }
      const addr = http.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      return `http://${host}:${port}`;
    },
    close(reason = 'shutdown') {
      closing ??= (async () => {
        draining = true;
        logger.info({ reason, connections: io.engine.clientsCount }, 'draining: telling peers and closing');
        for (const ns of [defaultNs, signalingNs, voiceNs, adminNs, consultNs]) ns.emit('server-shutdown', { reason, reconnect: true });
        // This node's calls end here, told to their peers while the sockets are still open.
        await liveness.stop().catch((err: unknown) => logger.error({ err }, 'live calls could not be given their final state; other nodes will fail them after NODE_TTL_MS'));
        // Let the notice leave the socket buffers before the transports close.
        await new Promise((r) => setTimeout(r, 100));
        io.disconnectSockets(true);
        // The cluster adapter's stream readers stop with their namespaces.
        for (const ns of [defaultNs, signalingNs, voiceNs, adminNs, consultNs]) void ns.adapter.close();
        io.engine.close();
        await http.close();
        await metricsHttp?.close();
        await consultations.close();
        await webhooks.close();
        await pruner.close();
        moderation.close();
        await recordings.close();
        captions?.close();
        await agentCalls?.closeAll();
        sessionAudio.close();
        await speech.speech?.close();
        await pipeline?.close();
        await media.close();
        await Promise.allSettled(replications.map((r) => r.close()));
        await placement.close();
        await liveBoard.close();
        await queue.close();
        await cluster.close();
        await storage.close();
        logger.info('closed');
      })();
      return closing;
    },
  };
}

export function randomSecret(): string {
  return randomBytes(32).toString('hex');
}
