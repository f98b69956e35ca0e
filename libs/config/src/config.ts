import type { z } from 'zod';

/** One key that failed validation, named as the environment variable. */
export interface ConfigIssue {
  readonly key: string;
  readonly message: string;
}

/** Thrown when configuration is invalid; lists every bad key at once. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(serviceName: string, issues: readonly ConfigIssue[]) {
    super(
      [
        `${serviceName}: invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):`,
        ...issues.map((issue) => `  - ${issue.key}: ${issue.message}`),
      ].join('\n'),
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** A config schema: an object whose keys are environment variable names. */
export type ConfigSchema = z.ZodObject<z.ZodRawShape>;

/** Parsed, frozen configuration of a schema. */
export type Config<S extends ConfigSchema> = Readonly<z.infer<S>>;

/**
 * Validates `env` against `schema` and returns the typed, frozen result. Empty and blank values
 * count as unset, so `FOO=` falls back to the default. Throws {@link ConfigError} with every bad key.
 */
export function loadConfig<S extends ConfigSchema>(
  serviceName: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): Config<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    // Blank counts as unset: `PORT= ` would otherwise coerce to 0, a random port.
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      serviceName,
      result.error.issues.map((issue) => ({
        key: issue.path.length > 0 ? issue.path.join('.') : '(config)',
        message: issue.message,
      })),
    );
  }
  return Object.freeze(result.data);
}

/**
 * {@link loadConfig} for a service's `main.ts`: on invalid configuration it prints every problem to
 * stderr and exits with status 78 (EX_CONFIG) before anything listens.
 */
export function loadConfigOrExit<S extends ConfigSchema>(
  serviceName: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): Config<S> {
  try {
    return loadConfig(serviceName, schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}

/** sysexits.h EX_CONFIG: the configuration is wrong. */
export const EXIT_CONFIG = 78;

/** Describes each key of a schema: name, default and description, for docs and `--help`. */
export function describeConfig(
  schema: ConfigSchema,
): { key: string; default?: unknown; description: string }[] {
  return Object.entries(schema.shape).map(([key, field]) => {
    const type = field as z.ZodType;
    const parsedDefault = type.safeParse(undefined);
    return {
      key,
      ...(parsedDefault.success && parsedDefault.data !== undefined
        ? { default: parsedDefault.data }
        : {}),
      description: type.description ?? '',
    };
  });
}
