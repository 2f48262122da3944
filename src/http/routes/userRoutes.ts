/** Account administration: admins list, create, disable and re-role agents, and reset passwords. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccountService } from '../../auth/accountService.js';
import { ParleyError } from '../../errors.js';
import { identityOf, type AuthHooks } from '../authHooks.js';
import { createUserRequest, resetPasswordRequest, updateUserRequest } from '../../contracts/rest.js';
import { bearerSecurity, errorBody, userBody, userView } from './schemas.js';

export interface UserRoutesDeps {
  accounts: AccountService;
  auth: AuthHooks;
}

const userId = z.object({ id: z.uuid() });

export const userRoutes =
  ({ accounts, auth }: UserRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.addHook('preHandler', auth.require('admin'));
    const common = { tags: ['users'], security: bearerSecurity };

    app.get('/', { schema: { ...common, summary: 'List accounts', response: { 200: z.object({ users: z.array(userBody) }), 401: errorBody, 403: errorBody } } }, async () => ({
      users: (await accounts.list()).map(userView),
    }));

    app.post(
      '/',
      {
        schema: {
          ...common,
          summary: 'Create an agent or admin account',
          body: createUserRequest,
          response: { 201: z.object({ user: userBody }), 400: errorBody, 401: errorBody, 403: errorBody, 409: errorBody },
        },
      },
      async (req, reply) => reply.status(201).send({ user: userView(await accounts.createByAdmin(req.body)) }),
    );

    app.patch(
      '/:id',
      {
        schema: {
          ...common,
          summary: 'Change role or enable/disable an account',
          params: userId,
          body: updateUserRequest,
          response: { 200: z.object({ user: userBody }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (req) => {
        if (req.params.id === identityOf(req).userId && (req.body.status === 'disabled' || req.body.role === 'agent')) {
          throw new ParleyError('CONFLICT', 'you cannot disable or demote your own account');
        }
        let user = req.body.role ? await accounts.setRole(req.params.id, req.body.role) : undefined;
        if (req.body.status) user = await accounts.setStatus(req.params.id, req.body.status);
        return { user: userView(user!) };
      },
    );

    app.post(
      '/:id/password',
      {
        schema: {
          ...common,
          summary: "Reset an account's password (signs it out everywhere)",
          params: userId,
          body: resetPasswordRequest,
          response: { 200: z.object({ user: userBody }), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody },
        },
      },
      async (req) => ({ user: userView(await accounts.resetPassword(req.params.id, req.body.password)) }),
    );
  };
