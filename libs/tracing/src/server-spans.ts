import type { IncomingMessage, RequestListener } from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
} from '@opentelemetry/api';
import { RPCType, setRPCMetadata, suppressTracing, type RPCMetadata } from '@opentelemetry/core';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import { tracingEnabled } from './tracing.ts';

/** Paths never worth a span: probes and scrapes would drown the real traffic. */
export const IGNORED_PATHS: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

/** The methods the HTTP semantic conventions name; any other is recorded as `_OTHER`. */
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

/**
 * Wraps a server's request listener so that every request is an HTTP server span, as
 * OpenTelemetry's semantic conventions describe it: the caller's W3C trace context continued,
 * `http.request.method`, `url.path`, the status code, `http.route` and the name `GET /users/:id`
 * once a route matched (the kit's metrics tell the route, see `@flotilla/metrics`), an error
 * status for 5xx. The request is handled in the span's context, so what it starts (SQL, Redis,
 * calls to other services) is part of its trace and its log lines carry the trace id. The query
 * string is not recorded: it can carry secrets.
 *
 * This is what the http instrumentation's server side does, without the work it does for every
 * request besides (it binds every listener of the request and the response to the context, parses
 * the URL, and more): that cost twice as much as the spans themselves here. Probes and scrapes
 * ({@link IGNORED_PATHS}) get no span and nothing they do is traced. With tracing off the
 * listener is returned as it is.
 */
export function serverSpans(
  listener: RequestListener,
  ignoredPaths: ReadonlySet<string> = IGNORED_PATHS,
): RequestListener {
  if (!tracingEnabled()) return listener;
  const tracer = trace.getTracer('@flotilla/tracing');
  const untraced = suppressTracing(ROOT_CONTEXT);
  return (req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (ignoredPaths.has(path)) {
      context.with(untraced, listener, undefined, req, res);
      return;
    }
    const method = req.method ?? 'GET';
    const known = KNOWN_METHODS.has(method);
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    // The samplers (`samplerOf`) decide on the trace id and the caller's decision, not on
    // attributes: a request that is not sampled is spared working them out.
    const span = tracer.startSpan(known ? method : 'HTTP', { kind: SpanKind.SERVER }, parent);
    const rpc: RPCMetadata = { type: RPCType.HTTP, span };
    const active = setRPCMetadata(trace.setSpan(parent, span), rpc);
    // A body is read by listeners on the request that run after this call returns, in the
    // socket's context: bound to the span's, the rest of the request (handled once its body is
    // read) stays in the trace. A request without a body is handled in the call itself.
    if (hasBody(req)) context.bind(active, req);
    // Not sampled: the span only carries that decision to what the request calls.
    if (!span.isRecording()) {
      context.with(active, listener, undefined, req, res);
      return;
    }
    span.setAttributes(requestAttributes(req, known ? method : '_OTHER', path));
    res.on('close', () => {
      const status = res.statusCode;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (rpc.route !== undefined) {
        span.setAttribute(ATTR_HTTP_ROUTE, rpc.route);
        span.updateName(`${known ? method : 'HTTP'} ${rpc.route}`);
      }
      if (status >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
    context.with(active, listener, undefined, req, res);
  };
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function requestAttributes(req: IncomingMessage, method: string, path: string): Attributes {
  const { headers, socket } = req;
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_URL_SCHEME]: 'http',
    [ATTR_URL_PATH]: path,
    [ATTR_NETWORK_PEER_ADDRESS]: socket.remoteAddress,
    [ATTR_NETWORK_PEER_PORT]: socket.remotePort,
    [ATTR_NETWORK_PROTOCOL_VERSION]: req.httpVersion,
    [ATTR_USER_AGENT_ORIGINAL]: headers['user-agent'],
  };
  if (method === '_OTHER') attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = req.method;
  const forwardedFor = headers['x-forwarded-for'];
  const first = typeof forwardedFor === 'string' ? forwardedFor.split(',')[0]?.trim() : undefined;
  const client = first || socket.remoteAddress;
  if (client) attributes[ATTR_CLIENT_ADDRESS] = client;
  const host = headers.host;
  if (host) {
    // `name:port` or `[v6 address]:port`; the port is optional.
    const colon = host.lastIndexOf(':');
    const hasPort = colon > host.lastIndexOf(']');
    const name = hasPort ? host.slice(0, colon) : host;
    attributes[ATTR_SERVER_ADDRESS] = name.startsWith('[') ? name.slice(1, -1) : name;
    if (hasPort) attributes[ATTR_SERVER_PORT] = Number(host.slice(colon + 1));
  }
  return attributes;
}
