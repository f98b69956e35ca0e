import { principalOf, requireAuth } from '@flotilla/auth';
import { commonErrors, validate } from '@flotilla/http';
import { Router } from 'express';
import type { TokenService } from '../auth/tokens.ts';
import type { UsersService } from './users.service.ts';
import { loginBody, registerBody, updateBody, userIdParams } from './users.schemas.ts';

/** HTTP for users and login: parse, validate, call the service, shape the reply. */
export function usersRoutes(users: UsersService, tokens: TokenService): Router {
  const router = Router();
  const auth = requireAuth(tokens);

  router.post('/users', async (req, res) => {
    const user = await users.register(validate(registerBody, req.body, 'body'));
    res.status(201).location(`/users/${user.id}`).json(user);
  });

  router.post('/auth/login', async (req, res) => {
    const token = await users.login(validate(loginBody, req.body, 'body'));
    res.set('Cache-Control', 'no-store').json(token);
  });

  router.get('/users/me', auth, async (req, res) => {
    const principal = principalOf(req);
    // A service token names a client, not a user: it has no profile.
    if (principal.role === 'service') throw commonErrors.create('FORBIDDEN');
    res.json(await users.getProfile(principal, principal.userId));
  });

  router.get('/users/:id', auth, async (req, res) => {
    const { id } = validate(userIdParams, req.params, 'params');
    res.json(await users.getProfile(principalOf(req), id));
  });

  router.patch('/users/:id', auth, async (req, res) => {
    const { id } = validate(userIdParams, req.params, 'params');
    const input = validate(updateBody, req.body, 'body');
    res.json(await users.update(principalOf(req), id, input));
  });

  return router;
}
