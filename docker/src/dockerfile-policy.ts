import { DockerfileParser, type From, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

/** A rule a Dockerfile breaks, with the line (1-based) where it does. */
export interface Violation {
  rule: string;
  line: number;
  message: string;
}

const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)/i;
const EXACT_VERSION = /^v?\d+\.\d+\.\d+/;
const OCI_LABELS = ['revision', 'version', 'source'].map((k) => `org.opencontainers.image.${k}`);

const lineOf = (instruction: Instruction) => instruction.getRange().start.line + 1;

/** `${NAME}` in a FROM replaced with the default of the ARG before the first FROM. */
function resolveImage(from: From, initialArgs: Map<string, string>): string {
  return (from.getArgumentsContent() ?? '')
    .split(/\s+/)[0]!
    .replace(/\$\{?(\w+)\}?/g, (_match, name: string) => initialArgs.get(name) ?? '');
}

/**
 * Checks a Dockerfile: first with dockerfile-utils' validator (syntax, instruction arguments,
 * duplicates, deprecated instructions), then with the image rules Flotilla holds to: several
 * stages, pinned base images, a non-root numeric user, a HEALTHCHECK, an exec-form entrypoint
 * (so the process gets SIGTERM), OCI labels, no ADD, and no secrets baked in through ENV or ARG.
 */
export function dockerfileViolations(content: string): Violation[] {
  const violations: Violation[] = validate(content).map((d) => ({
    rule: 'valid',
    line: d.range.start.line + 1,
    message: typeof d.message === 'string' ? d.message : d.message.value,
  }));
  const dockerfile = DockerfileParser.parse(content);
  const initialArgs = new Map(
    dockerfile
      .getInitialARGs()
      .map((arg) => [arg.getProperty()?.getName() ?? '', arg.getProperty()?.getValue() ?? '']),
  );
  const froms = dockerfile.getFROMs();
  const stages = new Set(froms.map((f) => f.getBuildStage()).filter(Boolean));

  if (froms.length < 2) {
    violations.push({
      rule: 'multi-stage',
      line: 1,
      message: 'build and runtime must be separate stages',
    });
  }
  for (const from of froms) {
    const image = resolveImage(from, initialArgs);
    const name = image.split(/[:@]/)[0] ?? '';
    if (stages.has(name) || image === 'scratch') continue;
    const tag = image.includes('@sha256:') ? 'digest' : (image.split(':')[1] ?? '');
    if (tag !== 'digest' && !EXACT_VERSION.test(tag)) {
      violations.push({
        rule: 'pinned-base',
        line: lineOf(from),
        message: `base image ${image || '(empty)'} is not pinned to an exact version or digest`,
      });
    }
  }

  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'ADD') {
      violations.push({
        rule: 'no-add',
        line: lineOf(instruction),
        message: 'use COPY (ADD fetches URLs and unpacks archives implicitly)',
      });
    }
    if (keyword === 'ENV' || keyword === 'ARG') {
      for (const name of (instruction.getArgumentsContent() ?? '').match(
        /\b[A-Za-z_]\w*(?==|\s|$)/g,
      ) ?? []) {
        if (SECRET_NAME.test(name)) {
          violations.push({
            rule: 'no-secrets',
            line: lineOf(instruction),
            message: `${keyword} ${name} would bake a secret into the image; pass it at run time`,
          });
        }
      }
    }
  }

  const runtime = froms.at(-1);
  if (runtime) {
    const start = lineOf(runtime);
    const inRuntime = dockerfile.getInstructions().filter((i) => lineOf(i) >= start);
    const last = (keyword: string) => inRuntime.filter((i) => i.getKeyword() === keyword).at(-1);
    const user = last('USER')?.getArgumentsContent()?.trim() ?? '';
    const uid = user.split(':')[0] ?? '';
    if (!/^\d+$/.test(uid) || Number(uid) === 0) {
      violations.push({
        rule: 'non-root',
        line: start,
        message: `the runtime stage must end as a numeric non-root USER, not "${user || 'root'}"`,
      });
    }
    const healthcheck = last('HEALTHCHECK');
    if (!healthcheck || /^\s*NONE\b/i.test(healthcheck.getArgumentsContent() ?? '')) {
      violations.push({
        rule: 'healthcheck',
        line: start,
        message: 'the runtime stage has no HEALTHCHECK',
      });
    }
    const entry = last('ENTRYPOINT') ?? last('CMD');
    if (!entry || !(entry.getArgumentsContent() ?? '').trim().startsWith('[')) {
      violations.push({
        rule: 'exec-form',
        line: entry ? lineOf(entry) : start,
        message: 'start the process in exec form (JSON array) so it receives SIGTERM',
      });
    }
    const labels = inRuntime
      .filter((i) => i.getKeyword() === 'LABEL')
      .map((i) => i.getArgumentsContent() ?? '')
      .join(' ');
    for (const label of OCI_LABELS) {
      if (!labels.includes(label)) {
        violations.push({ rule: 'oci-labels', line: start, message: `label ${label} is missing` });
      }
    }
  }
  return violations;
}
