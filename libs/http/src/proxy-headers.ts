/**
 * The header by which the deploy kit's own requests (its smoke test and analysis load) prove
 * themselves to the gateway with the admin token: the gateway's client limits do not apply to them,
 * so a release is judged on the new version's answers, not on the limiter's refusals.
 */
export const RELEASE_TOKEN_HEADER = 'x-flotilla-release-token';

/**
 * Headers a proxy does not pass on, in either direction: the hop-by-hop ones (RFC 9110 7.6.1),
 * which belong to one connection, `host` and `content-length`, which the proxy's own request
 * or response carries for itself, and the deploy kit's credential, which is for the gateway only.
 */
export const NOT_FORWARDED_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  RELEASE_TOKEN_HEADER,
]);
