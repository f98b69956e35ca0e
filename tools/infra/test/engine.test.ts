// docker.sh up and down for real: the engine answers on its own socket with ports on 127.0.0.1,
// and down leaves the host as up found it. Needs root and `docker.sh install`. Where an engine
// already answers, up must use it and down must leave it running.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { engineAnswers, parseExports } from '../src/engine.ts';

const DOCKER_SH = fileURLToPath(new URL('../docker.sh', import.meta.url));

function dockerSh(verb: string, env: NodeJS.ProcessEnv) {
  const result = spawnSync('bash', [DOCKER_SH, verb], { env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function docker(args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync('docker', args, { env, encoding: 'utf8' });
  assert.equal(result.status, 0, `docker ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

const answering = await engineAnswers(process.env);

describe('docker.sh up and down', () => {
  if (answering) {
    it('uses the engine that answers already and leaves it running', () => {
      const up = dockerSh('up', process.env);
      assert.equal(up.status, 0, up.stderr);
      assert.match(up.stderr, /using the engine that answers|already up/);
      const host = parseExports(up.stdout)['DOCKER_HOST'];
      assert.ok(host);
      const env = { ...process.env, DOCKER_HOST: host };
      const down = dockerSh('down', { ...env, FLOTILLA_DOCKER_CACHE: join(tmpdir(), 'none') });
      assert.equal(down.status, 0, down.stderr);
      docker(['version'], env);
    });
    return;
  }

  let cache = '';
  after(async () => {
    if (!cache) return;
    dockerSh('down', { ...process.env, FLOTILLA_DOCKER_CACHE: cache });
    await rm(cache, { recursive: true, force: true });
  });

  it('starts an engine on a socket in its cache dir and stops it leaving the host as it was', async () => {
    cache = await mkdtemp(join(tmpdir(), 'flotilla-engine-'));
    const env: NodeJS.ProcessEnv = { ...process.env, FLOTILLA_DOCKER_CACHE: cache };
    delete env['DOCKER_HOST'];
    const before = dockerSh('state', env).stdout;

    const up = dockerSh('up', env);
    assert.equal(up.status, 0, up.stderr);
    const host = parseExports(up.stdout)['DOCKER_HOST'];
    assert.equal(host, `unix://${cache}/docker.sock`);
    const engine = { ...env, DOCKER_HOST: host };
    assert.equal(dockerSh('status', engine).status, 0);
    // ports published without an address listen on 127.0.0.1 only
    const bridge = JSON.parse(docker(['network', 'inspect', 'bridge'], engine)) as [
      { Options: Record<string, string> },
    ];
    assert.equal(bridge[0].Options['com.docker.network.bridge.host_binding_ipv4'], '127.0.0.1');
    // other networks publish on every address: other machines are kept out by DOCKER-USER
    const guard = spawnSync('iptables', ['-S', 'DOCKER-USER'], { encoding: 'utf8' }).stdout;
    assert.match(guard, /-A DOCKER-USER -o br-\+ -m conntrack --ctstate NEW -j DROP/);
    assert.match(guard, /-A DOCKER-USER -i br-\+ -j RETURN[\s\S]*-o br-\+ .*-j DROP/);
    // a user network adds a bridge and iptables rules that down must remove
    docker(['network', 'create', 'flotilla-engine-test'], engine);
    const during = dockerSh('state', env).stdout;
    assert.notEqual(during, before);
    assert.match(during, /^br-[0-9a-f]{12}$/m);
    assert.match(during, /^:DOCKER /m);

    const down = dockerSh('down', env);
    assert.equal(down.status, 0, down.stderr);
    assert.match(
      down.stderr,
      /no daemon, mount, bridge, iptables rule or sysctl of the engine is left/,
    );
    assert.equal(dockerSh('state', env).stdout, before);
    assert.equal(existsSync(join(cache, 'docker.sock')), false);
    assert.equal(dockerSh('status', engine).status, 1);
  });
});
