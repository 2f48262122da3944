/**
 * The pages without their trailing slash: `/agent` would load `/agent`'s HTML with its script
 * path resolved against `/` (the page would run without its script), so each is redirected
 * to its slash form with the query string kept (`/c?e=…` → `/c/?e=…`). 308 keeps the method.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

const pages: Record<string, string> = {
  '/agent': '/agent/',
  '/admin': '/admin/',
  '/c': '/c/',
  '/voice': '/voice/',
  '/ai': '/ai/',
  '/demo': '/demo/p2p.html',
  '/demo/': '/demo/p2p.html',
};

export const pageRedirects: FastifyPluginAsync = async (app) => {
  for (const [from, to] of Object.entries(pages)) {
    app.get(from, { schema: { hide: true } }, async (req, reply) => {
      const q = req.url.indexOf('?');
      return reply.redirect(q === -1 ? to : to + req.url.slice(q), 308);
    });
  }
};

/**
 * The 404 answer: a page for a browser (a GET whose Accept puts text/html before JSON), Parley's
 * JSON error for API clients. The page's text comes from its script (web/assets/not-found.js),
 * in the reader's language.
 */
export function wantsHtml(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (request.url.startsWith('/api/')) return false;
  const accept = (request.headers.accept ?? '').toLowerCase();
  const html = accept.indexOf('text/html');
  if (html === -1) return false;
  const json = accept.indexOf('application/json');
  return json === -1 || html < json;
}

const notFoundHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Page not found · Parley</title>
<link rel="stylesheet" href="/assets/parley.css">
<script type="module" src="/assets/not-found.js"></script>
</head>
<body data-page="not-found">
<div id="app"><main><h1>Page not found</h1><p><a href="/">Parley</a></p></main></div>
</body>
</html>
`;

export function sendNotFoundPage(reply: FastifyReply): FastifyReply {
  return reply.status(404).type('text/html; charset=utf-8').send(notFoundHtml);
}
