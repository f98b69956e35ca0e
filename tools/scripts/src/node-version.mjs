// @ts-check
// The first command of `npm start` and `npm test`: plain JavaScript, so that any Node.js can run
// it, and one sentence instead of the stack trace an older Node prints on the TypeScript sources.
// `npm ci` and `npm install` refuse an older Node through `engine-strict` (.npmrc) before they
// install anything.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const manifest = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
// engines.node in package.json, e.g. ">=24.7".
const required = /"node":\s*">=\s*([\d.]+)"/.exec(manifest)?.[1] ?? '0';
const [wantMajor = 0, wantMinor = 0] = required.split('.').map(Number);
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);

if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
  process.stderr.write(
    `Flotilla needs Node.js ${required} or newer, and this is ${process.version}: run \`nvm install\` here (it reads .nvmrc) or install Node.js ${required}+ from nodejs.org.\n`,
  );
  process.exit(1);
}
