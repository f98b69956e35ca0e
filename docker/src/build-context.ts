import { matchesGlob, normalize } from 'node:path';

interface Rule {
  negate: boolean;
  pattern: string;
}

/**
 * A `.dockerignore` as Docker reads it: one pattern a line (Go `filepath.Match` with `**`),
 * comments and blank lines skipped, `!` re-includes, the last matching line wins, and a pattern
 * that matches a directory excludes everything in it. Returns whether a path (relative to the
 * build context, `/`-separated) is left out of the context.
 */
export function dockerignore(text: string): (path: string) => boolean {
  const rules: Rule[] = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = normalize(negate ? line.slice(1).trim() : line).replace(/^\/+/, '');
      return { negate, pattern };
    });
  const matches = (path: string, pattern: string) => {
    const parts = path.split('/');
    return parts.some((_, i) => matchesGlob(parts.slice(0, i + 1).join('/'), pattern));
  };
  return (path) => {
    let excluded = false;
    for (const rule of rules) if (matches(path, rule.pattern)) excluded = !rule.negate;
    return excluded;
  };
}

/** The sources of every `COPY` without `--from` in a stage: what it takes from the build context. */
export function contextSources(dockerfile: string, stage: string): string[] {
  const lines = dockerfile.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^FROM .* AS ${stage}$`, 'i').test(l.trim()));
  if (start < 0) throw new Error(`no stage ${stage}`);
  const end = lines.findIndex((l, i) => i > start && /^FROM /i.test(l.trim()));
  return lines
    .slice(start, end < 0 ? undefined : end)
    .filter((l) => /^COPY /i.test(l.trim()) && !l.includes('--from'))
    .flatMap((l) =>
      l
        .trim()
        .split(/\s+/)
        .slice(1, -1)
        .filter((arg) => !arg.startsWith('--')),
    );
}
