/** The services `npm start` runs, in start order, with their local ports and databases. */
export interface ServiceDefinition {
  /** Nx project name and folder under apps/. */
  readonly name: string;
  readonly port: number;
  /** Its admin API (fault flags; traffic weights at the gateway), on 127.0.0.1. */
  readonly adminPort: number;
  /** Database created for it on the shared PostgreSQL server, if it has one. */
  readonly database?: string;
}

export const SERVICES: readonly ServiceDefinition[] = [
  { name: 'user-service', port: 3001, adminPort: 3101, database: 'flotilla_users' },
  { name: 'payment-service', port: 3003, adminPort: 3103, database: 'flotilla_payments' },
  { name: 'order-service', port: 3002, adminPort: 3102, database: 'flotilla_orders' },
  { name: 'gateway', port: 8080, adminPort: 8081 },
];

/** The gateway's mesh port on this machine: services call each other through it. */
export const MESH_PORT = 8082;

/** Local URL of a service at its default port. */
export const urlOf = (name: string): string =>
  `http://127.0.0.1:${SERVICES.find((s) => s.name === name)?.port ?? 0}`;

/** Where the services listen, and the gateway's mesh listener when it runs. */
export interface Addresses {
  urls: Readonly<Record<string, string>>;
  /** With a mesh, services reach each other through it (`<mesh>/<service>`), so a release's weights apply to their calls too. */
  mesh?: string;
}

/**
 * The environment each service needs to find the others on this machine. Secrets are made fresh
 * for each run: `npm start` is a local system, nothing outlives it.
 */
export function wiring(
  secrets: {
    jwtPrivateKey: string;
    orderServiceSecret: string;
    adminToken: string;
  },
  { urls, mesh }: Addresses = {
    urls: Object.fromEntries(SERVICES.map((s) => [s.name, urlOf(s.name)])),
  },
): Record<string, Record<string, string>> {
  const direct = (name: string) => urls[name] ?? urlOf(name);
  const via = (name: string) => (mesh ? `${mesh}/${name}` : direct(name));
  const jwks = `${via('user-service')}/.well-known/jwks.json`;
  const admin = { ADMIN_TOKEN: secrets.adminToken };
  return {
    'user-service': {
      ...admin,
      JWT_PRIVATE_KEY: secrets.jwtPrivateKey,
      SERVICE_CLIENTS: JSON.stringify({ 'order-service': secrets.orderServiceSecret }),
    },
    'payment-service': { ...admin, AUTH_JWKS_URL: jwks },
    'order-service': {
      ...admin,
      AUTH_JWKS_URL: jwks,
      USER_SERVICE_URL: via('user-service'),
      PAYMENT_SERVICE_URL: via('payment-service'),
      SERVICE_CLIENT_SECRET: secrets.orderServiceSecret,
    },
    gateway: {
      AUTH_JWKS_URL: jwks,
      USER_SERVICE_URL: direct('user-service'),
      ORDER_SERVICE_URL: direct('order-service'),
      PAYMENT_SERVICE_URL: direct('payment-service'),
      ...(mesh ? { MESH_PORT: new URL(mesh).port, HTTP_REUSE_PORT: 'true' } : {}),
      ...admin,
    },
  };
}
