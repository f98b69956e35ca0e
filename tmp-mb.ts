import { createLogger } from './libs/logging/src/logger.ts';
import { requestLogger } from './libs/logging/src/request-logger.ts';
const logger = createLogger({ service: 'bench', level: 'info' });
const lines = logger.child({}, { redact: [] });
const n = 200000;
for (let k = 0; k < 3; k++) {
  const t0 = process.cpuUsage(); const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    lines.info({ req: { id: 'a9f0c2c4-1d7b-4bb0-9a52-07d0f5b3b0f1', method: 'GET', url: '/hello', userAgent: undefined }, res: { statusCode: 200 }, responseTime: 1 }, 'request completed');
  }
  const c = process.cpuUsage(t0);
  process.stderr.write(`line ${(Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2)} µs wall, ${((c.user + c.system) / n).toFixed(2)} µs cpu (sys ${(c.system / n).toFixed(2)})\n`);
}
