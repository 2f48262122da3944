/**
 * Security headers on every page and API answer (@fastify/helmet).
 *
 * The pages load only their own scripts (no inline script, no eval); styles may be inline
 * (`<style>` blocks and style attributes in the pages); QR codes are data: images. Socket.IO
 * connects to the same origin, which `connect-src 'self'` covers for ws:/wss: as well (CSP
 * Level 3). WebRTC media needs no CSP allowance. Nothing may frame the consoles.
 */
import type { FastifyHelmetOptions } from '@fastify/helmet';

export const securityHeaders: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'blob:'],
      mediaSrc: ["'self'", 'blob:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  // Browsers heed HSTS only over https; behind a TLS-terminating proxy it pins https for 180 days.
  hsts: { maxAge: 180 * 24 * 3600, includeSubDomains: false },
  noSniff: true,
  // Customer links carry their entry token in the query string: send no Referer anywhere.
  referrerPolicy: { policy: 'no-referrer' },
};
