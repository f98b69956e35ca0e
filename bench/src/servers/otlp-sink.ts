// Where traced services export spans in the benchmark: an OTLP/HTTP endpoint that reads each
// request whole, counts spans' bytes and answers 200 with an empty export response.
//   node otlp-sink.ts <port>
import { createServer } from 'node:http';

let bytes = 0;
let exports = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ bytes, exports }));
    return;
  }
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    exports += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
