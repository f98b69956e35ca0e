/**
 * Headers a proxy does not pass on, in either direction: the hop-by-hop ones (RFC 9110 7.6.1),
 * which belong to one connection, and `host` and `content-length`, which the proxy's own request
 * or response carries for itself.
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
]);
