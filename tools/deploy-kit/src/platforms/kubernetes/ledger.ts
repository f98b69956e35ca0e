import type { V1ConfigMap } from '@kubernetes/client-node';
import type { ReleaseRecord } from '../../core/ledger.ts';
import { statusOf, type Cluster } from './cluster.ts';

/** Releases kept per service; older ones leave the ConfigMap (Helm keeps its own history). */
const KEEP = 50;

/**
 * The ledger of a service in a namespace: a ConfigMap `flotilla-releases-<service>` with one key
 * per revision, so every machine (a laptop, any CI job) sees the same history. Writes replace the
 * ConfigMap at the resourceVersion read, and read again on a conflict.
 */
export function configMapLedger(cluster: Cluster, namespace: string) {
  const nameOf = (service: string) => `flotilla-releases-${service}`;
  const read = async (service: string): Promise<V1ConfigMap | undefined> => {
    try {
      return await cluster.core.readNamespacedConfigMap({ name: nameOf(service), namespace });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };
  const recordsOf = (map: V1ConfigMap | undefined): ReleaseRecord[] =>
    Object.values(map?.data ?? {})
      .map((text) => JSON.parse(text) as ReleaseRecord)
      .sort((a, b) => a.revision - b.revision);
  return {
    history: async (service: string) => recordsOf(await read(service)),
    async record(release: ReleaseRecord): Promise<void> {
      for (let attempt = 0; attempt < 5; attempt++) {
        const map = await read(release.service);
        const data = { ...map?.data, [`r${release.revision}`]: JSON.stringify(release) };
        const keys = Object.keys(data).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
        for (const old of keys.slice(0, Math.max(0, keys.length - KEEP))) delete data[old];
        try {
          if (map) {
            await cluster.core.replaceNamespacedConfigMap({
              name: nameOf(release.service),
              namespace,
              body: { ...map, data },
            });
          } else {
            await cluster.core.createNamespacedConfigMap({
              namespace,
              body: {
                metadata: {
                  name: nameOf(release.service),
                  labels: {
                    'app.kubernetes.io/part-of': 'flotilla',
                    'app.kubernetes.io/managed-by': 'flotilla-deploy',
                  },
                },
                data,
              },
            });
          }
          return;
        } catch (err) {
          if (statusOf(err) !== 409) throw err;
        }
      }
      throw new Error(
        `could not record r${release.revision} of ${release.service}: the ledger kept changing`,
      );
    },
  };
}
