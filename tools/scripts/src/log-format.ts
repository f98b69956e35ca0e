/** Keys shown in the compact dev format as `key=value`, in this order. */
const SHOWN = ['method', 'url', 'statusCode', 'responseTime', 'port', 'code', 'err', 'trace_id'];

/**
 * Makes one JSON log line readable in a terminal: `12:00:01 info  user-service listening port=3001`.
 * Lines that are not our JSON logs are returned unchanged.
 */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null || typeof entry['msg'] !== 'string') return line;
  const time = typeof entry['time'] === 'string' ? entry['time'].slice(11, 19) : '';
  const level = typeof entry['level'] === 'string' ? entry['level'] : '';
  const req = entry['req'] as Record<string, unknown> | undefined;
  const res = entry['res'] as Record<string, unknown> | undefined;
  const flat: Record<string, unknown> = { ...entry, ...(req ?? {}), ...(res ?? {}) };
  const extras = SHOWN.filter((key) => flat[key] !== undefined).map((key) => {
    const value = flat[key];
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return `${key}=${text}`;
  });
  return [time, level.padEnd(5), entry['msg'], ...extras].filter(Boolean).join(' ');
}
