import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';

/** Status and JSON body of an answer. */
export interface Reply {
  status: number;
  body?: unknown;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeGatewayBehaviour {
  /** POST /api/users; by default 201, or 409 for an email seen before. */
  register?: (body: { email: string }) => Reply | Promise<Reply>;
  /** POST /api/orders from an authenticated user; by default the real outcome of each card. */
  placeOrder?: (body: { cardToken: string }) => Reply | Promise<Reply>;
  /** GET /api/orders from an authenticated user; by default an empty page. */
  listOrders?: () => Reply | Promise<Reply>;
}

/** The order-service outcome of each test card: 201 with the order, paid or payment_failed. */
export function settledOrder(cardToken: string): Reply {
  const paid = cardToken === 'tok_visa';
  return {
    status: 201,
    body: {
      id: '00000000-0000-4000-8000-000000000001',
      status: paid ? 'paid' : 'payment_failed',
      failureReason: paid ? null : 'card_declined',
    },
  };
}

/**
 * A loopback HTTP server with the gateway's public routes for the purchase flow. It checks what the
 * real services check on the way (bearer token of a logged-in user, Idempotency-Key on orders) and
 * answers as each test says. A test double at the HTTP boundary, for component tests of loadgen.
 */
export async function startFakeGateway(behaviour: FakeGatewayBehaviour = {}) {
  const seen: SeenRequest[] = [];
  const emails = new Set<string>();
  const tokens = new Set<string>();

  const reply = (res: ServerResponse, { status, body }: Reply) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
  };

  async function route(method: string, url: string, headers: IncomingHttpHeaders, body: unknown) {
    const input = (body ?? {}) as Record<string, string>;
    if (method === 'POST' && url === '/api/users') {
      const email = input.email ?? '';
      if (behaviour.register) return behaviour.register({ email });
      if (emails.has(email)) return { status: 409, body: { code: 'USER_EMAIL_TAKEN' } };
      emails.add(email);
      return { status: 201, body: { id: 'u', email } };
    }
    if (method === 'POST' && url === '/api/auth/login') {
      const email = input.email ?? '';
      if (!emails.has(email) || (input.password ?? '').length < 12) {
        return { status: 401, body: { code: 'INVALID_CREDENTIALS' } };
      }
      const token = `token-${email}`;
      tokens.add(token);
      return { status: 200, body: { accessToken: token, tokenType: 'Bearer', expiresIn: 900 } };
    }
    if (url.startsWith('/api/orders')) {
      const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
      if (token === undefined || !tokens.has(token)) return { status: 401, body: {} };
      if (method === 'GET' && url === '/api/orders') {
        return behaviour.listOrders ? behaviour.listOrders() : { status: 200, body: { items: [] } };
      }
      if (method === 'POST' && url === '/api/orders') {
        if (!headers['idempotency-key']) return { status: 400, body: { code: 'KEY_REQUIRED' } };
        const cardToken = input.cardToken ?? '';
        return behaviour.placeOrder ? behaviour.placeOrder({ cardToken }) : settledOrder(cardToken);
      }
    }
    return { status: 404, body: {} };
  }

  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body: unknown = text ? JSON.parse(text) : undefined;
      const method = req.method ?? '';
      const url = req.url ?? '';
      seen.push({ method, url, headers: req.headers, body });
      route(method, url, req.headers, body).then(
        (answer) => reply(res, answer),
        (err: unknown) => reply(res, { status: 500, body: { message: String(err) } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type FakeGateway = Awaited<ReturnType<typeof startFakeGateway>>;

/** A loopback port nothing listens on (it was free a moment ago), for connection failures. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
