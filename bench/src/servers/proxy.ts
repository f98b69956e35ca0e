// The least a reverse proxy in Node does, as nginx's proxy_pass in the benchmark does it: node:http
// in front, an undici Pool of keep-alive connections behind, `/api/<path>` sent on as `/<path>`
// and the answer streamed straight into the response (as the gateway does). No token check, rate
// limit, request log or metrics: what any gateway written in Node costs before it does anything.
//   node proxy.ts <port> <upstream url> <connections>
import { createServer, type OutgoingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import { NOT_FORWARDED_HEADERS } from '@flotilla/http';

const [port, upstream, connections] = process.argv.slice(2);
if (!port || !upstream || !connections) {
  process.stderr.write('usage: node proxy.ts <port> <upstream url> <connections>\n');
  process.exit(2);
}
const pool = new Pool(upstream, { connections: Number(connections), keepAliveTimeout: 30_000 });

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/health') {
    res.end('ok');
    return;
  }
  if (!url.startsWith('/api/')) {
    res.writeHead(404).end();
    return;
  }
  const headers: OutgoingHttpHeaders = {};
  for (const name in req.headers)
    if (!NOT_FORWARDED_HEADERS.has(name)) headers[name] = req.headers[name];
  headers['x-forwarded-for'] = req.socket.remoteAddress;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool
    .stream(
      {
        method: req.method as 'GET',
        path: url.slice('/api'.length),
        headers: headers as Record<string, string>,
        ...(hasBody ? { body: req } : {}),
      },
      ({ statusCode, headers: answer }) => {
        res.statusCode = statusCode;
        for (const name in answer) {
          const value = answer[name];
          if (value !== undefined && !NOT_FORWARDED_HEADERS.has(name)) res.setHeader(name, value);
        }
        return res;
      },
    )
    .catch(() => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => {
    void pool.close().then(() => process.exit(0));
  });
});
