// Scans an app's image with Trivy and gates on severity; writes the report and the image's SBOM:
//   node tools/ci/src/image-scan.ts <app> [--level HIGH] [--include-unfixed]   (npx nx docker-scan <app>)
// dist/images/<app>.trivy.json is Trivy's report, dist/images/<app>.cdx.json the image's CycloneDX
// SBOM (OS packages and node_modules). Exit 0: passed; 1: vulnerabilities at or above the level
// that have a fix; 2: bad usage or config; 3: no Trivy and no Docker engine to run it in.
// Trivy runs from PATH, or else from its image through the Docker engine that built the app's image.
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, isMain, orExit, runCli } from './cli.ts';
import { validateBom } from './sbom.ts';
import { currentImage } from './image-ref.ts';

export const TRIVY_IMAGE = 'aquasec/trivy:0.74.0';
export const LEVELS = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];

export interface Vulnerability {
  id: string;
  pkg: string;
  installed: string;
  fixed: string | undefined;
  severity: Level;
  target: string;
}

interface TrivyReport {
  Results?: {
    Target?: string;
    Vulnerabilities?: {
      VulnerabilityID?: string;
      PkgName?: string;
      InstalledVersion?: string;
      FixedVersion?: string;
      Severity?: string;
    }[];
  }[];
}

/** Every vulnerability in a Trivy JSON report (`trivy image --format json`). */
export function vulnerabilitiesOf(report: TrivyReport): Vulnerability[] {
  return (report.Results ?? []).flatMap((result) =>
    (result.Vulnerabilities ?? []).map((v) => ({
      id: v.VulnerabilityID ?? 'unknown',
      pkg: v.PkgName ?? 'unknown',
      installed: v.InstalledVersion ?? '',
      fixed: v.FixedVersion || undefined,
      severity: (LEVELS as readonly string[]).includes(v.Severity ?? '')
        ? (v.Severity as Level)
        : 'UNKNOWN',
      target: result.Target ?? '',
    })),
  );
}

/**
 * The vulnerabilities that fail the gate: at or above `level`, and (unless `includeUnfixed`)
 * only those with a fixed version to move to, so that a finding always has an action.
 */
export function gate(
  vulnerabilities: readonly Vulnerability[],
  level: Level,
  includeUnfixed = false,
): Vulnerability[] {
  return vulnerabilities.filter(
    (v) => LEVELS.indexOf(v.severity) >= LEVELS.indexOf(level) && (includeUnfixed || v.fixed),
  );
}

/** The command that runs Trivy: the binary on PATH, or its image on the Docker engine. */
export function trivyCommand(
  args: readonly string[],
  available: { trivy: boolean; docker: boolean },
  image = TRIVY_IMAGE,
): string[] | undefined {
  if (available.trivy) return ['trivy', ...args];
  if (!available.docker) return undefined;
  // The engine's own socket (also inside docker:dind), and a named volume for the vulnerability DB.
  return [
    'docker',
    'run',
    '--rm',
    '-v',
    '/var/run/docker.sock:/var/run/docker.sock',
    '-v',
    'flotilla-trivy-cache:/root/.cache/',
    image,
    ...args,
  ];
}

const answers = (command: string, args: string[]) =>
  spawnSync(command, args, { stdio: 'ignore' }).status === 0;

export interface ScanOptions {
  app: string | undefined;
  level: Level;
  includeUnfixed: boolean;
  /** Trivy's image when it runs through Docker: `TRIVY_IMAGE`, else {@link TRIVY_IMAGE}. */
  trivyImage: string;
}

/** The command line and environment of a scan; throws on a bad `--level` or an unknown option. */
export function parseScanArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ScanOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      level: { type: 'string', default: 'HIGH' },
      'include-unfixed': { type: 'boolean', default: false },
    },
  });
  const level = values.level.toUpperCase();
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new Error(`--level is one of ${LEVELS.join(', ')}; got "${values.level}"`);
  }
  if (positionals.length > 1) throw new Error(`one app at a time; got ${positionals.join(' ')}`);
  return {
    app: positionals[0],
    level: level as Level,
    includeUnfixed: values['include-unfixed'],
    trivyImage: env['TRIVY_IMAGE'] || TRIVY_IMAGE,
  };
}

async function main(): Promise<number> {
  const options = orExit(2, () => parseScanArgs(process.argv.slice(2), process.env));
  const { level } = options;
  const image = orExit(2, () => currentImage(options.app, process.env));
  const available = { trivy: answers('trivy', ['--version']), docker: answers('docker', ['info']) };
  const run = (args: string[]): string => {
    const command = trivyCommand(args, available, options.trivyImage);
    if (!command) {
      throw new CliError('neither trivy nor a Docker engine to run its image is available', 3);
    }
    const [bin = 'trivy', ...rest] = command;
    const result = spawnSync(bin, rest, {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (result.status !== 0) {
      throw new CliError(`${command.join(' ')} failed (exit ${result.status ?? 'signal'})`, 1);
    }
    return result.stdout;
  };

  const out = resolve('dist/images');
  await mkdir(out, { recursive: true });
  const reportJson = run(['image', '--quiet', '--scanners', 'vuln', '--format', 'json', image.ref]);
  await writeFile(join(out, `${image.app}.trivy.json`), reportJson);
  const sbom = run(['image', '--quiet', '--format', 'cyclonedx', image.ref]);
  const sbomErrors = await validateBom(sbom);
  if (sbomErrors.length > 0) {
    throw new CliError(`the image SBOM is not valid CycloneDX: ${sbomErrors.join('; ')}`, 1);
  }
  await writeFile(join(out, `${image.app}.cdx.json`), sbom);

  const all = vulnerabilitiesOf(JSON.parse(reportJson) as TrivyReport);
  const { includeUnfixed } = options;
  const failing = gate(all, level, includeUnfixed);
  process.stdout.write(
    `docker-scan: ${image.ref}: ${all.length} vulnerabilities, ${failing.length} at or above ` +
      `${level}${includeUnfixed ? '' : ' with a fix'}\n`,
  );
  for (const v of failing) {
    process.stdout.write(
      `  ${v.severity.padEnd(8)} ${v.id} ${v.pkg} ${v.installed} -> ${v.fixed ?? 'no fix'} (${v.target})\n`,
    );
  }
  return failing.length > 0 ? 1 : 0;
}

if (isMain(import.meta.url)) runCli('docker-scan', main);
