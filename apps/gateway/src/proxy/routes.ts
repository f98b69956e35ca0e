/** A path prefix of the public API and the service behind it. */
export interface RouteSpec {
  prefix: string;
  service: string;
  /** What the prefix becomes upstream: `/api/users/me` -> `/users/me`. */
  upstreamPrefix: string;
}

export const ROUTES: readonly RouteSpec[] = [
  { prefix: '/api/users', service: 'user-service', upstreamPrefix: '/users' },
  { prefix: '/api/auth', service: 'user-service', upstreamPrefix: '/auth' },
  { prefix: '/api/orders', service: 'order-service', upstreamPrefix: '/orders' },
  { prefix: '/api/payments', service: 'payment-service', upstreamPrefix: '/payments' },
];

/** Requests that need no token: registering and logging in (the services still check the rest). */
export function isPublic(method: string, path: string): boolean {
  return (
    (method === 'POST' &&
      (path === '/api/users' || path === '/api/auth/login' || path === '/api/auth/token')) ||
    (method === 'GET' && path === '/api/openapi.json')
  );
}
