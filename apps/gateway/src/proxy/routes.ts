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

const PUBLIC_PATHS = new Set(['/api/users', '/api/auth/login', '/api/auth/token']);

/**
 * Requests that need no token: registering and logging in. Any method on those paths passes, so
 * that the service answers a method it does not take with 405 and `Allow`, not the gateway with
 * 401; the services check the rest.
 */
export function isPublic(method: string, path: string): boolean {
  return PUBLIC_PATHS.has(path) || (method === 'GET' && path === '/api/openapi.json');
}
