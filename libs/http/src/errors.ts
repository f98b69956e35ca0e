/** A failing field: where (`body.email`) and why. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export interface AppErrorOptions {
  cause?: unknown;
  /** Extra members for the problem document, e.g. the failing fields. Shown to clients. */
  details?: Record<string, unknown>;
  /** Response headers that belong to this error, e.g. `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
  /**
   * Show the message and details to clients. Defaults to true below 500; a 5xx is hidden unless
   * it was written for clients (a 503 saying what to do next, say).
   */
  expose?: boolean;
}

/**
 * An error with a stable code and an HTTP status. The error middleware turns it into
 * `application/problem+json`; the message of a 5xx is logged, never shown to clients.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly expose: boolean;

  constructor(code: string, message: string, status: number, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.details = options.details;
    this.headers = options.headers;
    this.expose = options.expose ?? status < 500;
  }
}

/** A service's error catalog: stable code -> status and a default message. */
export type ErrorCatalog = Record<
  string,
  { readonly status: number; readonly message: string; readonly expose?: boolean }
>;

/**
 * Makes a typed factory over a catalog: `errors.create('USER_NOT_FOUND')`.
 */
export function defineErrors<const C extends ErrorCatalog>(catalog: C) {
  return {
    catalog,
    create(code: keyof C & string, options: AppErrorOptions & { message?: string } = {}): AppError {
      const entry = catalog[code];
      if (!entry) throw new Error(`unknown error code ${code}`);
      return new AppError(code, options.message ?? entry.message, entry.status, {
        ...(entry.expose === undefined ? {} : { expose: entry.expose }),
        ...options,
      });
    },
  };
}

/** Errors every service shares. */
export const commonErrors = defineErrors({
  VALIDATION_FAILED: { status: 400, message: 'The request is invalid.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  UNAUTHENTICATED: { status: 401, message: 'Authentication is required.' },
  TOKEN_INVALID: { status: 401, message: 'The access token is invalid or expired.' },
  FORBIDDEN: { status: 403, message: 'You may not do this.' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed on this path.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json.' },
  SERVICE_UNAVAILABLE: {
    status: 503,
    message: 'The service is temporarily unavailable.',
    expose: true,
  },
  INTERNAL: { status: 500, message: 'Internal server error.' },
});
