/**
 * The order to release services in: each after the services it calls (a callee must be able to
 * serve a new caller before the caller arrives), ties in the order given. `calls` maps a service to
 * the services it calls; services outside `services` do not constrain the order. Throws on a cycle.
 */
export function releaseOrder(
  services: readonly string[],
  calls: Readonly<Record<string, readonly string[]>>,
): string[] {
  const pending = new Set(services);
  const order: string[] = [];
  while (pending.size > 0) {
    const next = [...pending].find((s) =>
      (calls[s] ?? []).every((callee) => callee === s || !pending.has(callee)),
    );
    if (!next) {
      throw new Error(`the services call each other in a cycle: ${[...pending].join(', ')}`);
    }
    order.push(next);
    pending.delete(next);
  }
  return order;
}
