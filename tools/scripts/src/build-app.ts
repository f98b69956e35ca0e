// Builds an app into dist/<app dir>: its entry points bundled with the workspace libs (ESM, one
// shared chunk so module state such as the tracer is not duplicated), third-party packages left
// external, migrations copied, and a package.json listing exactly the packages the bundle imports
// at the versions installed here, and that package's lockfile pruned from the workspace's by Nx, so
// `npm ci --omit=dev` in that folder installs exactly the tested versions and gives a runnable app.
//   node tools/scripts/src/build-app.ts apps/user-service
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProjectGraphAsync } from '@nx/devkit';
import { generatePrunedDeployOutput } from '@nx/js';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY_POINTS = ['main', 'instrumentation', 'migrate'];
/** Loaded by name at run time (a loader hook), so the bundle does not show it as an import. */
const RUNTIME_ONLY_DEPENDENCIES = ['@opentelemetry/instrumentation'];

const projectRoot = process.argv[2];
if (!projectRoot || !existsSync(join(ROOT, projectRoot, 'src/main.ts'))) {
  process.stderr.write('usage: build-app.ts <app dir with src/main.ts>, e.g. apps/user-service\n');
  process.exit(2);
}
const appDir = join(ROOT, projectRoot);
const outDir = join(ROOT, 'dist', projectRoot);

/** Bare imports that are not workspace libs stay external and become dependencies. */
const externals = new Set<string>();
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@flotilla/') || args.path.startsWith('node:')) return undefined;
      const parts = args.path.split('/');
      externals.add(
        args.path.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? args.path),
      );
      return { path: args.path, external: true };
    });
  },
};

async function installedVersion(name: string): Promise<string> {
  const manifest = JSON.parse(
    await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
await build({
  entryPoints: Object.fromEntries(
    ENTRY_POINTS.filter((name) => existsSync(join(appDir, 'src', `${name}.ts`))).map((name) => [
      name,
      join(appDir, 'src', `${name}.ts`),
    ]),
  ),
  outdir: outDir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [externalPackages],
});
if (existsSync(join(appDir, 'src/migrations'))) {
  await cp(join(appDir, 'src/migrations'), join(outDir, 'migrations'), { recursive: true });
}

const rootManifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  engines?: Record<string, string>;
};
const dependencies: Record<string, string> = {};
for (const name of [...externals, ...RUNTIME_ONLY_DEPENDENCIES].sort()) {
  if (!rootManifest.dependencies?.[name]) {
    throw new Error(
      `${projectRoot} imports "${name}", which is not a production dependency in the root package.json`,
    );
  }
  dependencies[name] = await installedVersion(name);
}
const appManifest = JSON.parse(await readFile(join(appDir, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const manifest = {
  name: appManifest.name,
  version: appManifest.version,
  private: true,
  type: 'module' as const,
  engines: rootManifest.engines,
  scripts: {
    start: 'node --enable-source-maps --import ./instrumentation.js main.js',
    migrate: 'node migrate.js',
  },
  dependencies,
};
generatePrunedDeployOutput(manifest, await createProjectGraphAsync(), projectRoot, {
  outputDirectory: outDir,
  packageManager: 'npm',
  workspaceRoot: ROOT,
});
await writeFile(join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
process.stdout.write(
  `built ${projectRoot} -> ${resolve(outDir)} (${Object.keys(dependencies).length} runtime dependencies)\n`,
);
