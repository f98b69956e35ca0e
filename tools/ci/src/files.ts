import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { renderGithub } from './github.ts';
import { renderGitlab } from './gitlab.ts';
import { renderJenkins } from './jenkins.ts';
import { JOBS, OUTPUTS, type Job } from './pipeline.ts';

/**
 * Every pipeline file as it must be committed: rendered from the description and, for YAML,
 * formatted by the repository's Prettier config, so `prettier --check` agrees with the generator.
 */
export async function renderAll(
  root: string,
  jobs: readonly Job[] = JOBS,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const [path, text] of [
    [OUTPUTS.github, renderGithub(jobs)],
    [OUTPUTS.gitlab, renderGitlab(jobs)],
  ] as const) {
    const file = join(root, path);
    const options = (await resolveConfig(file)) ?? {};
    files.set(path, await format(text, { ...options, filepath: file }));
  }
  files.set(OUTPUTS.jenkins, renderJenkins(jobs));
  return files;
}

/** Paths whose committed content differs from what the description renders. */
export async function staleFiles(root: string, rendered: Map<string, string>): Promise<string[]> {
  const stale: string[] = [];
  for (const [path, text] of rendered) {
    const committed = await readFile(join(root, path), 'utf8').catch(() => undefined);
    if (committed !== text) stale.push(path);
  }
  return stale;
}
