import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request id (the http kit's request-id middleware sets it); written on the request's log line. */
    id?: string;
  }
}

/** Requests not worth a log line: probes and scrapes arrive every few seconds. */
const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * One log line per finished request (method, url, status, duration), at `error` for 5xx and
 * `warn` for 4xx. Uses the request id set by the http kit, so lines and replies can be matched.
 *
 * The line is built from a fixed set of fields, none of them a header or a body, so it is written
 * through a child logger without the root logger's redaction: matching the redaction's wildcard
 * paths against every line cost several times the rest of the line. Lines a service writes itself
 * keep the redaction.
 */
export function requestLogger(logger: Logger): RequestHandler {
  const lines = logger.child({}, { redact: [] });
  return (req, res, next) => {
    const url = req.originalUrl;
    if (QUIET_PATHS.has(pathOf(url))) {
      next();
      return;
    }
    const start = performance.now();
    res.on('close', () => {
      const statusCode = res.statusCode;
      const fields = {
        req: {
          id: req.id ?? '',
          method: req.method,
          url,
          userAgent: req.headers['user-agent'],
        },
        res: { statusCode },
        responseTime: Math.round(performance.now() - start),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (statusCode >= 500) lines.error(fields, 'request errored');
      else if (statusCode >= 400) lines.warn(fields, 'request completed');
      else lines.info(fields, 'request completed');
    });
    next();
  };
}
