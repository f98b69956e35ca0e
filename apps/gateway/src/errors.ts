import { defineErrors } from '@flotilla/http';

/** The gateway's error catalog. Upstream failures are written for clients, so they are shown. */
export const errors = defineErrors({
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry after the time in Retry-After.' },
  NO_UPSTREAM: { status: 503, message: 'No upstream is available for this route.', expose: true },
  UPSTREAM_UNREACHABLE: {
    status: 502,
    message: 'The upstream service could not be reached.',
    expose: true,
  },
  UPSTREAM_TIMEOUT: {
    status: 504,
    message: 'The upstream service did not answer in time.',
    expose: true,
  },
  UNKNOWN_SERVICE: { status: 404, message: 'No such service.' },
});
