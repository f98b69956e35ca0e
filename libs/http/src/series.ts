import type { RequestHandler } from 'express';

/**
 * Middlewares run one after the other as one Express layer: the same order and the same `next`
 * contract (an error, or `'route'`/`'router'`, skips the rest and goes to Express), without the
 * router's path matching and bookkeeping between each of them.
 */
export function series(handlers: readonly RequestHandler[]): RequestHandler {
  if (handlers.length === 1 && handlers[0]) return handlers[0];
  return (req, res, next) => {
    let index = 0;
    const step = (err?: unknown): void => {
      if (err) {
        next(err);
        return;
      }
      const handler = handlers[index++];
      if (!handler) {
        next();
        return;
      }
      try {
        const result: unknown = handler(req, res, step);
        if (result instanceof Promise) result.catch(step);
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}
