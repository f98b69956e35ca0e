import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

/** The compose-go module whose schema/compose-spec.json is the Compose Specification's schema. */
export const COMPOSE_SPEC_MODULE = 'github.com/compose-spec/compose-go/v2@v2.16.2';

export interface ComposeService {
  image?: string;
  build?: {
    context?: string;
    dockerfile?: string;
    target?: string;
    /** A null value is taken from the environment, and left out when it is not set there. */
    args?: Record<string, string | null>;
  };
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
  pull_policy?: string;
  command?: string[];
  volumes?: string[];
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** A compose file parsed the way Compose reads it: YAML 1.1 merge keys (`<<: *anchor`) resolved. */
export function loadCompose(path: string): ComposeFile {
  return parse(readFileSync(path, 'utf8'), { merge: true }) as ComposeFile;
}

/**
 * Compose's variable interpolation: `${NAME}`, `${NAME:-default}`, `${NAME-default}` and `$$`
 * (a literal `$`). Unset names without a default become empty, as Compose has them.
 */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    /\$\$|\$\{(\w+)(?:(:?-)([^}]*))?\}/g,
    (match, name: string | undefined, operator: string | undefined, fallback: string = '') => {
      if (match === '$$') return '$';
      const value = env[name!];
      if (operator === ':-') return value ? value : fallback;
      if (operator === '-') return value ?? fallback;
      return value ?? '';
    },
  );
}

/** Every `${NAME...}` a text refers to. */
export function variablesIn(text: string): string[] {
  return [...text.matchAll(/(?<!\$)\$\{(\w+)/g)].map((m) => m[1]!);
}

/** KEY=value lines of an env file; comments and blank lines skipped. */
export function readEnvFile(path: string): Map<string, string> {
  return envLines(path, /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/);
}

/** `# KEY=value` lines of an env file: settings documented with their default, left unset. */
export function readCommentedSettings(path: string): Map<string, string> {
  return envLines(path, /^#\s*([A-Z_][A-Z0-9_]*)=(\S*)$/);
}

function envLines(path: string, pattern: RegExp): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = pattern.exec(line);
    if (match) entries.set(match[1]!, match[2]!);
  }
  return entries;
}

/**
 * The Compose Specification JSON schema, from the compose-go module on the Go module proxy (the
 * implementation `docker compose` itself uses). Needs `go`; the module is cached after the first
 * download.
 */
export function composeSpecSchema(): object {
  let dir: string;
  try {
    const info = execFileSync('go', ['mod', 'download', '-json', COMPOSE_SPEC_MODULE], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    });
    dir = (JSON.parse(info) as { Dir: string }).Dir;
  } catch (err) {
    throw new Error(
      `could not fetch ${COMPOSE_SPEC_MODULE} with \`go mod download\`: install Go (https://go.dev/doc/install) and make the Go module proxy reachable`,
      { cause: err },
    );
  }
  return JSON.parse(readFileSync(join(dir, 'schema', 'compose-spec.json'), 'utf8')) as object;
}

/** Validates compose documents against the Compose Specification schema; `[]` when valid. */
export function composeValidator(schema: object): (doc: unknown) => string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const check = ajv.compile(schema);
  return (doc) =>
    check(doc)
      ? []
      : (check.errors ?? []).map(
          (e: ErrorObject) =>
            `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
        );
}
