import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { LockState } from '../../core/plan.ts';
import { LockHeldError, type HeldLock } from '../platform.ts';
import { statusOf, type Cluster } from './cluster.ts';

const DURATION_S = 30;
const RENEW_MS = 10_000;

function stateOf(lease: V1Lease, now: number): LockState | undefined {
  const holder = lease.spec?.holderIdentity;
  if (!holder) return undefined;
  const renewed = new Date(lease.spec?.renewTime ?? lease.spec?.acquireTime ?? 0).getTime();
  const duration = (lease.spec?.leaseDurationSeconds ?? DURATION_S) * 1000;
  return {
    holder,
    since: new Date(lease.spec?.acquireTime ?? renewed).toISOString(),
    stale: now > renewed + duration,
  };
}

/**
 * The release lock of a service in a namespace: a coordination.k8s.io Lease that its holder renews
 * every 10 s. Two deploys from two CI jobs cannot both take it (the API server refuses the second
 * create, and a takeover needs the resourceVersion read); a holder that died stops renewing and
 * its lease goes stale after 30 s, to be taken over.
 */
export function leaseLock(cluster: Cluster, namespace: string, now: () => number = Date.now) {
  const nameOf = (service: string) => `flotilla-deploy-${service}`;
  const read = async (service: string): Promise<V1Lease | undefined> => {
    try {
      return await cluster.coordination.readNamespacedLease({ name: nameOf(service), namespace });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };
  return {
    async state(service: string): Promise<LockState | undefined> {
      const lease = await read(service);
      return lease ? stateOf(lease, now()) : undefined;
    },
    async acquire(service: string, holder: string): Promise<HeldLock> {
      // Leases take microsecond times (RFC 3339 with six decimals).
      const time = () => new V1MicroTime(now());
      const spec = () => ({
        holderIdentity: holder,
        leaseDurationSeconds: DURATION_S,
        acquireTime: time(),
        renewTime: time(),
      });
      const existing = await read(service);
      let lease: V1Lease;
      try {
        if (!existing) {
          lease = await cluster.coordination.createNamespacedLease({
            namespace,
            body: { metadata: { name: nameOf(service) }, spec: spec() },
          });
        } else {
          const state = stateOf(existing, now());
          if (state && !state.stale) throw new LockHeldError(state);
          // Free or stale: take it over, as long as nobody changed it since it was read.
          lease = await cluster.coordination.replaceNamespacedLease({
            name: nameOf(service),
            namespace,
            body: { ...existing, spec: spec() },
          });
        }
      } catch (err) {
        if (statusOf(err) === 409) {
          const taken = await read(service);
          const state = taken ? stateOf(taken, now()) : undefined;
          throw new LockHeldError(
            state ?? {
              holder: 'another deploy',
              since: new Date(now()).toISOString(),
              stale: false,
            },
          );
        }
        throw err;
      }
      let current = lease;
      const renew = setInterval(() => {
        cluster.coordination
          .replaceNamespacedLease({
            name: nameOf(service),
            namespace,
            body: { ...current, spec: { ...current.spec, renewTime: time() } },
          })
          .then((renewed) => (current = renewed))
          .catch(() => undefined); // the next renewal tries again; a lost lease shows as stale
      }, RENEW_MS);
      renew.unref();
      return {
        release: async () => {
          clearInterval(renew);
          await cluster.coordination
            .replaceNamespacedLease({
              name: nameOf(service),
              namespace,
              body: {
                ...current,
                spec: { ...current.spec, holderIdentity: '', renewTime: time() },
              },
            })
            .catch(() => undefined);
        },
      };
    },
  };
}
