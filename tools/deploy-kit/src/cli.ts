// The deploy kit as a plain command, for scripts and CI (the Nx targets call the same functions):
//   node tools/deploy-kit/src/cli.ts deploy <service> --env=<env> [--dry-run] [--strategy=canary]
//        [--version=<commit>] [--approve] [--force] [--set KEY=VALUE] [--output=json]
//   node tools/deploy-kit/src/cli.ts rollback <service> --env=<env> [--to=<version>] [--dry-run]
//   node tools/deploy-kit/src/cli.ts status <service> --env=<env>
// Exit codes: 0 released, 1 failed and rolled back, 2 bad usage or config, 3 refused by a gate,
// 4 the rollback itself failed (a person must act).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { shutdownTracing, startTracing } from '@flotilla/tracing';
import { EXIT } from './core/plan.ts';
import { deploy, rollback, status } from './run/command.ts';
import { interruptSignal, processIO } from './nx/io.ts';

const WORKSPACE = fileURLToPath(new URL('../../../', import.meta.url));
const USAGE = `usage:
  cli.ts deploy <service> --env=<env> [--dry-run] [--strategy=rolling|blueGreen|canary]
         [--version=<12-char commit>] [--approve] [--force] [--set KEY=VALUE]... [--output=text|json]
  cli.ts rollback <service> --env=<env> [--to=<version>] [--dry-run] [--output=text|json]
  cli.ts status <service> --env=<env> [--output=text|json]
exit codes: 0 released, 1 failed and rolled back, 2 bad usage or config, 3 refused by a gate,
            4 the rollback failed (a person must act)
`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        env: { type: 'string' },
        'dry-run': { type: 'boolean' },
        strategy: { type: 'string' },
        version: { type: 'string' },
        approve: { type: 'boolean' },
        force: { type: 'boolean' },
        set: { type: 'string', multiple: true },
        to: { type: 'string' },
        output: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, service] = positionals;
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT.released;
  }
  if (!command || !service || positionals.length > 2) {
    process.stderr.write(USAGE);
    return EXIT.usage;
  }
  const common = { service, env: values.env, ...(values.output ? { output: values.output } : {}) };
  const io = processIO(WORKSPACE, interruptSignal());
  // The option schemas say what is wrong with a value; unknown options for a command are refused.
  const only = (allowed: string[]) => {
    const extra = Object.keys(values).filter(
      (k) => values[k as keyof typeof values] !== undefined && !allowed.includes(k),
    );
    if (extra.length > 0) throw new Error(`${command} takes no --${extra.join(', --')}`);
  };
  try {
    switch (command) {
      case 'deploy':
        only(['env', 'dry-run', 'strategy', 'version', 'approve', 'force', 'set', 'output']);
        return await deploy(
          {
            ...common,
            dryRun: values['dry-run'] ?? false,
            approve: values.approve ?? false,
            force: values.force ?? false,
            set: values.set ?? [],
            ...(values.strategy ? { strategy: values.strategy } : {}),
            ...(values.version ? { version: values.version } : {}),
          } as Parameters<typeof deploy>[0],
          io,
        );
      case 'rollback':
        only(['env', 'to', 'dry-run', 'output']);
        return await rollback(
          {
            ...common,
            dryRun: values['dry-run'] ?? false,
            ...(values.to ? { to: values.to } : {}),
          } as Parameters<typeof rollback>[0],
          io,
        );
      case 'status':
        only(['env', 'output']);
        return await status(common as Parameters<typeof status>[0], io);
      default:
        process.stderr.write(`unknown command "${command}"\n${USAGE}`);
        return EXIT.usage;
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return EXIT.usage;
  }
}

startTracing({ serviceName: 'flotilla-deploy' });
const code = await main(process.argv.slice(2));
await shutdownTracing();
process.exit(code);
