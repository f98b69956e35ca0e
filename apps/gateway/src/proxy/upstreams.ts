import { Pool } from 'undici';
import { z } from 'zod';

/** One deployed version of a service and its share of the traffic. */
export interface UpstreamVersion {
  version: string;
  url: string;
  /** Relative weight; 0 takes no traffic unless pinned. */
  weight: number;
}

/** The versions of one service, as the admin API and `UPSTREAMS` take them. */
export const upstreamVersionsSchema = z
  .array(
    z.strictObject({
      version: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,31}$/),
      url: z.url({ protocol: /^https?$/ }),
      weight: z.number().int().min(0).max(100),
    }),
  )
  .min(1)
  .max(10)
  .refine((versions) => new Set(versions.map((v) => v.version)).size === versions.length, {
    message: 'versions must be unique',
  })
  .refine((versions) => versions.some((v) => v.weight > 0), {
    message: 'at least one weight must be above 0',
  });

interface Live extends UpstreamVersion {
  pool: Pool;
}

export interface UpstreamRegistry {
  /** Picks a version: the pinned one when it exists, else by weight. Undefined when none can take traffic. */
  pick(service: string, pinned?: string): (UpstreamVersion & { pool: Pool }) | undefined;
  get(service: string): UpstreamVersion[] | undefined;
  /** Replaces a service's versions. Pools of unchanged URLs are kept; removed ones drain, then close. */
  set(service: string, versions: UpstreamVersion[]): Promise<void>;
  services(): Record<string, UpstreamVersion[]>;
  close(): Promise<void>;
}

/**
 * The weighted upstreams behind each route. A release shifts traffic by changing weights at run
 * time; requests in flight keep the pool they started on, so a change drops none of them.
 */
export function createUpstreamRegistry(
  initial: Record<string, UpstreamVersion[]>,
  {
    connections,
    timeoutMs,
    random = Math.random,
  }: { connections: number; timeoutMs: number; random?: () => number },
): UpstreamRegistry {
  const table = new Map<string, Live[]>();
  const poolFor = (url: string, reuse: Live[] | undefined) =>
    reuse?.find((live) => live.url === url)?.pool ??
    new Pool(url, {
      connections,
      keepAliveTimeout: 30_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });

  for (const [service, versions] of Object.entries(initial)) {
    table.set(
      service,
      versions.map((v) => ({ ...v, pool: poolFor(v.url, undefined) })),
    );
  }

  return {
    pick(service, pinned) {
      const versions = table.get(service);
      if (!versions) return undefined;
      if (pinned) return versions.find((v) => v.version === pinned);
      const total = versions.reduce((sum, v) => sum + v.weight, 0);
      if (total <= 0) return undefined;
      let ticket = random() * total;
      for (const v of versions) {
        ticket -= v.weight;
        if (ticket < 0 && v.weight > 0) return v;
      }
      return versions.findLast((v) => v.weight > 0);
    },
    get(service) {
      return table.get(service)?.map(({ version, url, weight }) => ({ version, url, weight }));
    },
    async set(service, versions) {
      const previous = table.get(service);
      const next = versions.map((v) => ({ ...v, pool: poolFor(v.url, previous) }));
      table.set(service, next);
      const retired = (previous ?? []).filter((old) => !next.some((n) => n.pool === old.pool));
      // close() lets requests already dispatched on the pool finish first.
      await Promise.all(retired.map((old) => old.pool.close()));
    },
    services() {
      return Object.fromEntries(
        [...table.keys()].map((service) => [service, this.get(service) ?? []]),
      );
    },
    async close() {
      await Promise.all([...table.values()].flat().map((live) => live.pool.close()));
    },
  };
}
