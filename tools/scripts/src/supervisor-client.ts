import type { Instance, SystemState } from './local-system.ts';
import type { StartRequest } from './supervisor.ts';

/** An instance as the supervisor sees it now. */
export type LiveInstance = Instance & { alive: boolean };

/**
 * The client of the system's supervisor (`npm start`): what a release asks of the local platform's
 * owner of processes. Each call fails with the supervisor's own explanation.
 */
export function supervisorClient(system: Pick<SystemState, 'supervisor' | 'adminToken'>) {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${system.supervisor.url}/v1/services${path}`, {
        method,
        headers: {
          authorization: `Bearer ${system.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // Stopping an instance waits for its drain.
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      throw new Error(
        `npm start's supervisor (${system.supervisor.url}) did not answer: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let detail = text;
      try {
        detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
      } catch {
        // not JSON: the text as it is
      }
      throw new Error(`npm start's supervisor refused ${method} ${path}: ${res.status} ${detail}`);
    }
    return JSON.parse(text) as T;
  };
  return {
    /** Every instance of a service, dead ones included. */
    instances: async (service: string) =>
      (
        await call<{ instances: LiveInstance[] }>(
          'GET',
          `/${encodeURIComponent(service)}/instances`,
        )
      ).instances,
    /** Starts an instance; the supervisor owns it from then on. */
    start: (service: string, request: StartRequest) =>
      call<Instance>('POST', `/${encodeURIComponent(service)}/instances`, request),
    /** Drains and stops an instance; resolves once it has exited. */
    stop: (service: string, label: string) =>
      call<Instance>(
        'DELETE',
        `/${encodeURIComponent(service)}/instances/${encodeURIComponent(label)}`,
      ),
  };
}

export type SupervisorClient = ReturnType<typeof supervisorClient>;
