import { pathToFileURL } from 'node:url';

/** An error that ends a command with this exit code and message. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Runs `fn`, turning any error it throws into a CliError with `exitCode`. */
export function orExit<T>(exitCode: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message, exitCode);
  }
}

/** True when the module at `url` is the script node was started with. */
export const isMain = (url: string): boolean => url === pathToFileURL(process.argv[1] ?? '').href;

/**
 * Runs a command's main function: a CliError prints `<name>: <message>` and exits with its code,
 * anything else exits 1.
 */
export function runCli(name: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(err instanceof CliError ? err.exitCode : 1);
    },
  );
}
