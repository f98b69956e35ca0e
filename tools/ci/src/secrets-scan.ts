// Secret scan of every file git tracks (and new files it does not ignore), with secretlint's
// recommended rules (cloud keys, tokens, private keys, credentials in URLs):
//   node tools/ci/src/secrets-scan.ts [dir]   (npm run secrets:scan)
// Exit 0: nothing found; 1: secrets found (file, line, rule; values masked); 2: the scan could not run.
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { isMain } from './cli.ts';

export interface SecretFinding {
  file: string;
  line: number;
  rule: string;
  message: string;
}

export interface ScanResult {
  files: number;
  findings: SecretFinding[];
}

interface LintResult {
  filePath: string;
  messages: { ruleId: string; message: string; loc?: { start?: { line?: number } } }[];
}

/** Files to scan in a checkout: tracked and untracked-but-not-ignored, never node_modules. */
export function filesOf(dir: string): string[] {
  const out = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: dir,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return [...new Set(out.split('\0').filter(Boolean))];
}

/** Runs secretlint over the checkout in `dir` with the repository's .secretlintrc.json. */
export function scanSecrets(dir: string, root: string = dir): ScanResult {
  const files = filesOf(dir);
  if (files.length === 0) return { files: 0, findings: [] };
  const bin = resolve(root, 'node_modules/.bin/secretlint');
  const result = spawnSync(
    bin,
    [
      '--secretlintrc',
      resolve(root, '.secretlintrc.json'),
      '--format',
      'json',
      '--no-glob',
      '--no-color',
      '--',
      ...files,
    ],
    { cwd: dir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 300_000 },
  );
  if (result.error) throw result.error;
  let results: LintResult[];
  try {
    results = JSON.parse(result.stdout) as LintResult[];
  } catch {
    throw new Error(
      `secretlint exited ${result.status ?? 'by signal'}: ${result.stderr.slice(0, 500)}`,
    );
  }
  const findings = results.flatMap((r) =>
    r.messages.map((m) => ({
      file: r.filePath.startsWith(dir) ? r.filePath.slice(dir.length + 1) : r.filePath,
      line: m.loc?.start?.line ?? 0,
      rule: m.ruleId,
      message: m.message,
    })),
  );
  return { files: files.length, findings };
}

if (isMain(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? '.');
  try {
    const { files, findings } = scanSecrets(dir, resolve(import.meta.dirname, '../../..'));
    for (const f of findings) {
      // The message repeats the masked value, which can be as long as a private key.
      const message = f.message.length > 100 ? `${f.message.slice(0, 100)}...` : f.message;
      process.stdout.write(`${f.file}:${f.line}  ${f.rule}  ${message}\n`);
    }
    process.stdout.write(
      `secrets:scan: ${files} files scanned, ${findings.length} secret(s) found\n`,
    );
    process.exit(findings.length > 0 ? 1 : 0);
  } catch (err) {
    process.stderr.write(`secrets:scan: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
