import { LoadSetupError, runLoad } from './load.ts';
import { UsageError, parseCli, usage } from './options.ts';
import { formatLive, formatReport, formatStart } from './report.ts';

/** The exit codes the README documents. */
const EXIT = { passed: 0, failed: 1, usage: 2, interrupted: 130 } as const;

async function main(): Promise<number> {
  let command;
  try {
    command = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    for (const problem of err.problems) process.stderr.write(`loadgen: ${problem}\n`);
    process.stderr.write('loadgen: run with --help to see the flags\n');
    return EXIT.usage;
  }
  if (command.help) {
    process.stdout.write(usage());
    return EXIT.passed;
  }
  const { options, json } = command;
  // With --json, stdout carries the report line only; the live view goes to stderr.
  const live = json ? process.stderr : process.stdout;

  const stop = new AbortController();
  process.once('SIGINT', () => {
    live.write('loadgen: stopping; waiting for the requests in flight (Ctrl-C again to quit)\n');
    stop.abort();
    process.once('SIGINT', () => process.exit(EXIT.interrupted));
  });

  try {
    const report = await runLoad(options, {
      signal: stop.signal,
      onStart: (info) => live.write(`${formatStart({ ...info, ...options })}\n`),
      onTick: (summary) => live.write(`${formatLive(summary)}\n`),
    });
    process.stdout.write(json ? `${JSON.stringify(report)}\n` : `\n${formatReport(report)}\n`);
    return report.passed ? EXIT.passed : EXIT.failed;
  } catch (err) {
    if (!(err instanceof LoadSetupError)) throw err;
    process.stderr.write(`loadgen: ${err.message}\n`);
    return EXIT.failed;
  }
}

process.exitCode = await main();
