// Every command a pipeline runs is an npm script or an Nx target that exists, so that it runs the
// same on a laptop.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createProjectGraphAsync } from '@nx/devkit';
import { JOBS } from '../src/pipeline.ts';
import { root } from './support.ts';

const scripts = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

/** The npm scripts and Nx targets a command line runs. */
export function commandParts(command: string): { scripts: string[]; targets: string[] } {
  const npm = /^npm run (?:--silent )?([\w:-]+)(?: -- (.*))?$/.exec(command);
  const nx = /^npx nx (?:affected|run-many) (.*)$/.exec(command);
  const args = npm?.[2] ?? nx?.[1];
  const targets = args ? (/-t ((?:[a-z][\w:-]* ?)+)/.exec(args)?.[1]?.trim().split(' ') ?? []) : [];
  return { scripts: npm ? [npm[1]!] : [], targets };
}

describe('pipeline commands', () => {
  it('are all npm scripts or Nx commands', () => {
    for (const job of JOBS) {
      for (const { run } of job.commands) {
        const parts = commandParts(run);
        assert.ok(parts.scripts.length + parts.targets.length > 0, `${job.id}: ${run}`);
      }
    }
  });

  it('name npm scripts that package.json has', () => {
    for (const job of JOBS) {
      for (const { run } of job.commands) {
        for (const script of commandParts(run).scripts) {
          assert.ok(
            scripts[script],
            `${job.id}: \`${run}\`: package.json has no script "${script}"`,
          );
        }
      }
    }
  });

  it('name Nx targets that projects have', async () => {
    const graph = await createProjectGraphAsync({ exitOnError: true });
    const targets = new Set(
      Object.values(graph.nodes).flatMap((n) => Object.keys(n.data.targets ?? {})),
    );
    const missing = JOBS.flatMap((job) =>
      job.commands.flatMap(({ run }) =>
        commandParts(run)
          .targets.filter((t) => !targets.has(t))
          .map((t) => `${t} (${job.id}: ${run})`),
      ),
    );
    assert.deepEqual(missing, [], `no project has the target: ${missing.join('; ')}`);
  });
});
