import { parser } from '@prometheus-io/lezer-promql';

export class PromqlSyntaxError extends Error {
  constructor(query: string, at: number) {
    super(`PromQL syntax error at ${at}: ${query.slice(Math.max(0, at - 20), at + 20)}`);
    this.name = 'PromqlSyntaxError';
  }
}

/**
 * The metric names a PromQL query selects (`rate(http_server_requests_total[5m])` ->
 * `http_server_requests_total`), parsed with Prometheus' own grammar. Throws on a syntax error.
 */
export function metricNames(query: string): string[] {
  const names = new Set<string>();
  parser.parse(query).iterate({
    enter: (node) => {
      if (node.type.isError) throw new PromqlSyntaxError(query, node.from);
      if (node.name === 'VectorSelector') {
        const identifier = node.node.getChild('Identifier');
        if (identifier) names.add(query.slice(identifier.from, identifier.to));
      }
    },
  });
  return [...names];
}
