/**
 * pino's timestamp as `,"time":"<ISO 8601>"`, the same text as `pino.stdTimeFunctions.isoTime`.
 * `Date#toISOString` cost more than the rest of a log line, so the text up to the second is made
 * once a second and the milliseconds appended to it.
 */
export function createIsoTime(now: () => number = Date.now): () => string {
  let second = Number.NaN;
  let prefix = '';
  return () => {
    const ms = now();
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      // "2026-11-30T06:04:13." for every year from 0 to 9999, where the text has a fixed width.
      prefix = new Date(s * 1000).toISOString().slice(0, 20);
    }
    const part = ms - s * 1000;
    return `,"time":"${prefix}${part < 10 ? '00' : part < 100 ? '0' : ''}${part}Z"`;
  };
}
