// CycloneDX SBOM of the production dependencies, validated against the CycloneDX JSON schema:
//   node tools/ci/src/sbom.ts [--output dist/sbom/flotilla.cdx.json]   (npm run sbom)
import { spawnSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { isMain } from './cli.ts';

export const SPEC_VERSION = Spec.Version.v1dot6;

/**
 * Validates a BOM's JSON text against the CycloneDX schema of `SPEC_VERSION`; returns the
 * schema errors, or an empty list when it is valid.
 */
export async function validateBom(json: string): Promise<string[]> {
  const validator = new Validation.JsonStrictValidator(SPEC_VERSION);
  // The library types validation errors as `any`: they are ajv's error objects.
  const errors: unknown = await validator.validate(json);
  if (errors === null) return [];
  return (Array.isArray(errors) ? errors : [errors]).map((e) => JSON.stringify(e));
}

/** Writes the SBOM of the npm project in `cwd` to `output` with cyclonedx-npm. */
export function generateBom(cwd: string, output: string): void {
  const bin = resolve(import.meta.dirname, '../../../node_modules/.bin/cyclonedx-npm');
  const result = spawnSync(
    bin,
    [
      '--omit',
      'dev',
      '--package-lock-only',
      '--spec-version',
      '1.6',
      '--output-reproducible',
      '--output-format',
      'JSON',
      '--output-file',
      output,
    ],
    { cwd, stdio: ['ignore', 'inherit', 'inherit'], timeout: 120_000 },
  );
  if (result.status !== 0) {
    throw new Error(`cyclonedx-npm failed (exit ${result.status ?? result.signal ?? 'unknown'})`);
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: { output: { type: 'string', default: 'dist/sbom/flotilla.cdx.json' } },
  });
  const output = resolve(values.output);
  try {
    await mkdir(dirname(output), { recursive: true });
    generateBom(process.cwd(), output);
    const json = await readFile(output, 'utf8');
    const errors = await validateBom(json);
    if (errors.length > 0) {
      process.stderr.write(
        `sbom: ${output} is not valid CycloneDX ${SPEC_VERSION}:\n  ${errors.join('\n  ')}\n`,
      );
      process.exit(1);
    }
    const bom = JSON.parse(json) as { components?: unknown[] };
    process.stdout.write(
      `sbom: ${output}: CycloneDX ${SPEC_VERSION}, ${bom.components?.length ?? 0} top-level components, valid\n`,
    );
  } catch (err) {
    process.stderr.write(`sbom: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
