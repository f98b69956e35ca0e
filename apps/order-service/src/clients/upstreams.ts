import { UpstreamUnavailableError, type HttpClient } from '@flotilla/http-client';
import { errors } from '../errors.ts';

/** A service token from user-service (client credentials), reused until shortly before it expires. */
export function createServiceTokenSource(
  users: HttpClient,
  { clientId, clientSecret, now }: { clientId: string; clientSecret: string; now: () => number },
) {
  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const res = await users.request<{ accessToken: string; expiresIn: number }>({
      method: 'POST',
      path: '/auth/token',
      body: { grantType: 'client_credentials', clientId, clientSecret },
    });
    if (res.status !== 200) {
      throw new Error(`user-service refused the client credentials of ${clientId} (${res.status})`);
    }
    // Renew when 80% of the lifetime has passed, so a token never expires in flight.
    cached = { token: res.body.accessToken, refreshAt: now() + res.body.expiresIn * 800 };
    return cached.token;
  }

  async function token(): Promise<string> {
    if (cached && now() < cached.refreshAt) return cached.token;
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  return {
    token,
    /**
     * Sends a request with `authorization` set to the service token. A 401 means the token is no
     * longer good (user-service signs with a new key, say): the token is dropped and the request
     * sent once more with a fresh one. The upstream refused it before doing anything, so the retry
     * is safe even for a POST.
     */
    async send<R extends { status: number }>(
      request: (authorization: string) => Promise<R>,
    ): Promise<R> {
      const used = await token();
      const reply = await request(`Bearer ${used}`);
      if (reply.status !== 401) return reply;
      if (cached?.token === used) cached = undefined;
      return request(`Bearer ${await token()}`);
    },
  };
}

export type ServiceTokenSource = ReturnType<typeof createServiceTokenSource>;

/** Asks user-service whether the user exists; 403 USER_UNKNOWN if not, 503 when it cannot tell. */
export async function ensureUserExists(
  users: HttpClient,
  tokens: ServiceTokenSource,
  userId: string,
): Promise<void> {
  try {
    const res = await tokens.send((authorization) =>
      users.request({
        method: 'GET',
        path: `/users/${encodeURIComponent(userId)}`,
        headers: { authorization },
      }),
    );
    if (res.status === 200) return;
    if (res.status === 404 || res.status === 400) throw errors.create('USER_UNKNOWN');
    throw errors.create('USER_SERVICE_UNAVAILABLE', {
      message: `user-service answered ${res.status}.`,
    });
  } catch (err) {
    if (err instanceof UpstreamUnavailableError)
      throw errors.create('USER_SERVICE_UNAVAILABLE', { cause: err });
    throw err;
  }
}
