import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout; one logger for the process, children per module. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'parley' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'token', 'password', '*.password', '*.token'], censor: '[redacted]' },
  });
}
