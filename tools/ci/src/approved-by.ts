// Prints who approved this GitHub Actions run's deployment to an environment, for the deploy kit's
// approval gate (FLOTILLA_APPROVED_BY). Exits 1 when nobody did: a production job must never run
// unapproved because an environment lost its protection rule.
//   node tools/ci/src/approved-by.ts --environment production   (npm run --silent ci:approved-by)
import { parseArgs } from 'node:util';
import { isMain } from './cli.ts';

type Env = Readonly<Record<string, string | undefined>>;

interface Approval {
  state?: unknown;
  user?: { login?: unknown };
  environments?: { name?: unknown }[];
}

/** Logins that approved `environment` for the current run (GitHub's run approvals API). */
export async function approvers(env: Env, environment: string): Promise<string[]> {
  const api = env['GITHUB_API_URL'] ?? 'https://api.github.com';
  const repo = env['GITHUB_REPOSITORY'];
  const run = env['GITHUB_RUN_ID'];
  if (!repo || !run)
    throw new Error('GITHUB_REPOSITORY and GITHUB_RUN_ID are not set: not a GitHub Actions run');
  const url = `${api}/repos/${repo}/actions/runs/${run}/approvals`;
  const response = await fetch(url, {
    headers: {
      accept: 'application/vnd.github+json',
      ...(env['GITHUB_TOKEN'] ? { authorization: `Bearer ${env['GITHUB_TOKEN']}` } : {}),
    },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const approvals = (await response.json()) as Approval[];
  const logins = approvals
    .filter((a) => a.state === 'approved')
    .filter((a) => (a.environments ?? []).some((e) => e.name === environment))
    .map((a) => a.user?.login)
    .filter((login): login is string => typeof login === 'string');
  return [...new Set(logins)];
}

if (isMain(import.meta.url)) {
  const fail = (message: string, code: number): never => {
    process.stderr.write(`ci:approved-by: ${message}\n`);
    process.exit(code);
  };
  let environment = '';
  try {
    const { values } = parseArgs({ options: { environment: { type: 'string' } } });
    environment = values.environment ?? '';
  } catch (err) {
    fail((err as Error).message, 2);
  }
  if (!environment) fail('usage: approved-by.ts --environment <name>', 2);
  try {
    const logins = await approvers(process.env, environment);
    if (logins.length === 0) {
      fail(
        `nobody approved the deployment to ${environment} in this run; require reviewers on the ` +
          `${environment} environment (Settings > Environments)`,
        1,
      );
    }
    process.stdout.write(`${logins.join(',')}\n`);
  } catch (err) {
    fail((err as Error).message, 1);
  }
}
