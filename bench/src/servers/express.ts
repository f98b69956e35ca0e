// Bare Express 5: the baseline a service is compared with, the same replies as the kit's.
//   node express.ts <port>
import express from 'express';

const startedAt = Date.now();
const app = express();
app.get('/health', (_req, res) => {
  res
    .set('Cache-Control', 'no-store')
    .json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
});
app.get('/hello', (_req, res) => {
  res.json({ hello: 'world' });
});
const server = app.listen(Number(process.argv[2]), '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
