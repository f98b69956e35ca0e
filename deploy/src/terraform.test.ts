import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseHcl } from '@cdktf/hcl2json';

const DIR = fileURLToPath(new URL('../terraform/', import.meta.url));
const MODULES = ['network', 'cluster', 'postgres', 'redis'];

/** hclfmt (HashiCorp's HCL formatter, `go install github.com/hashicorp/hcl/v2/cmd/hclfmt`). */
function hclfmt(...args: string[]) {
  let binary = 'hclfmt';
  if (spawnSync(binary, ['-version']).error) {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
    binary = join(gopath, 'bin', 'hclfmt');
    if (!existsSync(binary))
      throw new Error(
        'hclfmt is missing: go install github.com/hashicorp/hcl/v2/cmd/hclfmt@latest',
      );
  }
  const result = spawnSync(binary, args, { cwd: DIR, encoding: 'utf8' });
  return { code: result.status, output: `${result.stderr}` };
}

const files = (dir: string, ext: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(ext));

type Block = Record<string, [Record<string, unknown>]>;
interface Hcl {
  variable?: Block;
  output?: Block;
  module?: Block;
  resource?: Record<string, Block>;
}

async function load(path: string): Promise<Hcl> {
  const merged: Hcl = {};
  for (const file of readdirSync(path).filter((f) => f.endsWith('.tf'))) {
    const parsed = (await parseHcl(file, readFileSync(join(path, file), 'utf8'))) as Hcl;
    for (const [key, value] of Object.entries(parsed)) {
      Object.assign((merged[key as keyof Hcl] ??= {} as never), value);
    }
  }
  return merged;
}

describe('Terraform', () => {
  let root: Hcl;
  const modules = new Map<string, Hcl>();
  before(async () => {
    root = await load(DIR);
    for (const name of MODULES) modules.set(name, await load(join(DIR, 'modules', name)));
  });

  it('every file parses and is formatted (hclfmt -check, -require-no-change)', () => {
    const all = [...files(DIR, '.tf'), ...files(DIR, '.tfvars')];
    assert.ok(all.length >= 10);
    const check = hclfmt('-check', ...all);
    assert.equal(check.code, 0, check.output);
    const formatted = hclfmt('-require-no-change', ...all);
    assert.equal(formatted.code, 0, formatted.output);
  });

  it('the format check does fail on a badly formatted or broken file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-hcl-'));
    try {
      writeFileSync(join(dir, 'ugly.tf'), 'variable "x" {\ntype=string\n}\n');
      writeFileSync(join(dir, 'broken.tf'), 'variable "x" {\n');
      assert.notEqual(hclfmt('-require-no-change', join(dir, 'ugly.tf')).code, 0);
      assert.notEqual(hclfmt('-check', join(dir, 'broken.tf')).code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('declares every variable with a type and a description, and validates the inputs', () => {
    for (const [where, hcl] of [['root', root], ...modules] as [string, Hcl][]) {
      for (const [name, [variable]] of Object.entries(hcl.variable ?? {})) {
        assert.ok(variable['type'], `${where}: ${name} has no type`);
        assert.ok(variable['description'], `${where}: ${name} has no description`);
      }
    }
    for (const name of [
      'environment',
      'region',
      'vpc_cidr',
      'availability_zones',
      'node_count',
      'postgres_storage_gb',
    ]) {
      assert.ok(root.variable?.[name]?.[0]['validation'], `${name} has no validation`);
    }
  });

  it('passes each module exactly the variables it declares, and reads only outputs it has', () => {
    for (const [name, [call]] of Object.entries(root.module ?? {})) {
      const module = modules.get(name);
      assert.ok(module, `module ${name} has no folder`);
      const declared = module.variable ?? {};
      const passed = Object.keys(call).filter((k) => k !== 'source');
      assert.deepEqual(
        passed.filter((k) => !(k in declared)),
        [],
        `${name}: unknown inputs`,
      );
      const required = Object.entries(declared)
        .filter(([, [v]]) => !('default' in v))
        .map(([k]) => k);
      assert.deepEqual(
        required.filter((k) => !passed.includes(k)),
        [],
        `${name}: missing inputs`,
      );
    }
    const text = files(DIR, '.tf')
      .filter((f) => !f.startsWith('modules'))
      .map((f) => readFileSync(join(DIR, f), 'utf8'))
      .join('\n');
    for (const [, module, output] of text.matchAll(/module\.(\w+)\.(\w+)/g)) {
      assert.ok(
        modules.get(module!)?.output?.[output!],
        `module.${module}.${output} does not exist`,
      );
    }
  });

  it('sets only declared variables in each environment, with a valid environment name', async () => {
    for (const file of files(join(DIR, 'environments'), '.tfvars')) {
      const values = (await parseHcl(
        file,
        readFileSync(join(DIR, 'environments', file), 'utf8'),
      )) as Record<string, unknown>;
      for (const key of Object.keys(values))
        assert.ok(root.variable?.[key], `${file}: ${key} is not a variable`);
      assert.equal(`${String(values['environment'])}.tfvars`, file);
    }
  });

  it('feeds the Helm charts the global values their schema expects', () => {
    const value = String(root.output?.['helm_values']?.[0]['value']);
    for (const path of ['global', 'postgres', 'redis', 'port', 'networkPeers', 'ipBlock', 'cidr']) {
      assert.match(value, new RegExp(`\\b${path}\\b`));
    }
    const schema = JSON.parse(
      readFileSync(new URL('../../helm/user-service/values.schema.json', import.meta.url), 'utf8'),
    );
    const global = schema.properties.global.properties;
    assert.deepEqual(global.postgres.required, ['port', 'networkPeers']);
    assert.deepEqual(global.redis.required, ['port', 'networkPeers']);
  });

  it('keeps data encrypted and private, and production protected', () => {
    const pg = modules.get('postgres')?.resource?.['aws_db_instance']?.['this']?.[0] ?? {};
    assert.equal(pg['storage_encrypted'], true);
    assert.equal(pg['publicly_accessible'], false);
    assert.equal(pg['manage_master_user_password'], true);
    const redis =
      modules.get('redis')?.resource?.['aws_elasticache_replication_group']?.['this']?.[0] ?? {};
    assert.equal(redis['transit_encryption_enabled'], true);
    assert.equal(redis['at_rest_encryption_enabled'], true);
    const call = root.module?.['postgres']?.[0] ?? {};
    assert.equal(call['deletion_protection'], '${local.production}');
    assert.equal(call['multi_az'], '${local.production}');
  });
});
