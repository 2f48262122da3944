/** Member management (seed 003): sign up, sign in, sign out, who am I, withdraw. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccountService } from '../../auth/accountService.js';
import { identityOf, type AuthHooks } from '../authHooks.js';
import { signInAnswer, signInRequest, signUpRequest, withdrawRequest } from '../../contracts/rest.js';
import { bearerSecurity, errorBody, userBody, userView } from './schemas.js';

export interface AuthRoutesDeps {
  accounts: AccountService;
  auth: AuthHooks;
}

export const authRoutes =
  ({ accounts, auth }: AuthRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/signup',
      {
        schema: {
          tags: ['auth'],
          summary: 'Create an account: the first one on a fresh server becomes admin; later ones wait for an admin to approve them',
          body: signUpRequest,
          response: { 201: z.object({ user: userBody }), 400: errorBody, 403: errorBody, 409: errorBody },
        },
      },
      async (req, reply) => {
        const user = await accounts.signUp(req.body);
        return reply.status(201).send({ user: userView(user) });
      },
    );

    app.post(
      '/signin',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign in; returns a JWT access token',
          body: signInRequest,
          response: {
            200: signInAnswer,
            400: errorBody,
            401: errorBody,
            403: errorBody,
            429: errorBody,
          },
        },
      },
      async (req) => {
        const r = await accounts.signIn(req.body.email, req.body.password, req.ip);
        return { ...r, user: userView(r.user) };
      },
    );

    app.post(
      '/signout',
      { preHandler: auth.require('agent'), schema: { tags: ['auth'], summary: 'Revoke this access token', security: bearerSecurity, response: { 204: z.null(), 401: errorBody } } },
      async (req, reply) => {
        await accounts.signOut(identityOf(req));
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/me',
      { preHandler: auth.require('agent'), schema: { tags: ['auth'], summary: 'The signed-in account', security: bearerSecurity, response: { 200: z.object({ user: userBody }), 401: errorBody } } },
      async (req) => {
        return { user: userView(await accounts.get(identityOf(req).userId)) };
      },
    );

    app.delete(
      '/me',
      {
        preHandler: auth.require('agent'),
        schema: {
          tags: ['auth'],
          summary: 'Withdraw: close this account (password confirms)',
          security: bearerSecurity,
          body: withdrawRequest,
          response: { 204: z.null(), 400: errorBody, 401: errorBody },
        },
      },
      async (req, reply) => {
        await accounts.withdraw(identityOf(req), req.body.password);
        return reply.status(204).send(null);
      },
    );
  };
