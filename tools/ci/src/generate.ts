// Writes the CI/CD pipeline files from tools/ci/src/pipeline.ts, or checks they are up to date:
//   node tools/ci/src/generate.ts           (npm run ci:generate)
//   node tools/ci/src/generate.ts --check   exit 1 and name the files that differ
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderAll, staleFiles } from './files.ts';
import { validatePipeline } from './pipeline.ts';

const root = resolve(import.meta.dirname, '../../..');
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

const problems = validatePipeline();
if (problems.length > 0) {
  process.stderr.write(`ci: the pipeline description is invalid:\n  ${problems.join('\n  ')}\n`);
  process.exit(2);
}
const rendered = await renderAll(root);
const stale = await staleFiles(root, rendered);
if (values.check) {
  if (stale.length > 0) {
    process.stderr.write(
      `ci: ${stale.join(', ')} differ from tools/ci/src/pipeline.ts; run \`npm run ci:generate\`\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`ci: ${rendered.size} pipeline files are up to date\n`);
} else {
  for (const path of stale) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), rendered.get(path)!);
    process.stdout.write(`wrote ${path}\n`);
  }
  if (stale.length === 0) process.stdout.write('ci: nothing to write, every file is up to date\n');
}
