/**
 * The pages without their trailing slash: `/agent` would load `/agent`'s HTML with its script
 * path resolved against `/` (the page would run without its script), so each is redirected
 * to its slash form with the query string kept (`/c?e=…` → `/c/?e=…`). 308 keeps the method.
 */
import type { FastifyPluginAsync } from 'fastify';

const pages: Record<string, string> = {
  '/agent': '/agent/',
  '/admin': '/admin/',
  '/c': '/c/',
  '/voice': '/voice/',
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
