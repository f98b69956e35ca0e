// Backups that restore: deploy/ansible/playbooks/backup.yml run for real against the system's
// PostgreSQL and an S3-compatible server on this machine (moto, installed by .ci/run), then the
// restore drill (playbooks/restore.yml) into fresh databases, the services started on them, and
// every user, order, payment and refund compared (counts and a checksum of the rows). A truncated
// dump fails the check before anything is uploaded.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gatewayClient } from '@flotilla/e2e/client';
import { startSystem, type System } from '@flotilla/e2e/system';
import { runLoad } from '@flotilla/loadgen';
import {
  createTestDatabase,
  freePort,
  resolveInfrastructure,
  waitFor,
  type Infrastructure,
  type TestDatabase,
} from '@flotilla/testing';
import pg from 'pg';

const ANSIBLE = fileURLToPath(new URL('../ansible/', import.meta.url));
const MOTO =
  process.env['FLOTILLA_MOTO_SERVER'] ?? join(homedir(), '.cache/flotilla-moto/bin/moto_server');
const BUCKET = 'flotilla-dev-db-backups';
const TABLES = {
  users: ['users'],
  orders: ['orders'],
  payments: ['payments', 'refunds'],
} as const;
type Db = keyof typeof TABLES;

const say = (line: string) => process.stdout.write(`[backup] ${line}\n`);

let infra: Infrastructure;
let source: System;
let moto: ChildProcess;
let s3: string;
let scratch: string;
const restored: TestDatabase[] = [];

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'flotilla-backup-'));
  const port = await freePort();
  s3 = `http://127.0.0.1:${port}`;
  moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  moto.once('error', () => undefined); // reported by the wait below
  await waitFor('moto S3 server', async () => {
    if (moto.exitCode !== null || moto.pid === undefined)
      throw new Error(
        `${MOTO} is not running: .ci/run installs it (python3 -m venv ~/.cache/flotilla-moto && ~/.cache/flotilla-moto/bin/pip install -r deploy/test/requirements.txt)`,
      );
    await fetch(s3);
  });
  // The bucket exists before a backup runs (Terraform makes it in a real environment).
  assert.equal((await fetch(`${s3}/${BUCKET}`, { method: 'PUT' })).status, 200);
  infra = await resolveInfrastructure();
  source = await startSystem({
    RATE_LIMIT_CLIENT_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_BURST: '10000',
  });
});

after(async () => {
  await source?.stop();
  for (const db of restored) await db.drop().catch(() => undefined);
  await infra?.stop();
  moto?.kill('SIGTERM');
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** ansible-playbook from deploy/ansible against the dev host, with the backup's settings. */
function playbook(name: string, env: Record<string, string>, pathPrefix?: string) {
  return new Promise<{ code: number | null; output: string; seconds: number }>((resolve) => {
    const started = performance.now();
    const child = spawn(
      'ansible-playbook',
      [
        '-i',
        'inventory/hosts.yml',
        `playbooks/${name}`,
        '-l',
        'dev',
        '-e',
        `flotilla_backup_endpoint_url=${s3}`,
      ],
      {
        cwd: ANSIBLE,
        env: {
          ...process.env,
          ...(pathPrefix ? { PATH: `${pathPrefix}:${process.env['PATH'] ?? ''}` } : {}),
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_LOCAL_TEMP: scratch,
          AWS_ACCESS_KEY_ID: 'flotilla-test',
          AWS_SECRET_ACCESS_KEY: 'flotilla-test',
          AWS_REGION: 'us-east-1',
          ...env,
        },
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (err) => resolve({ code: -1, output: err.message, seconds: 0 }));
    child.once('exit', (code) =>
      resolve({ code, output, seconds: (performance.now() - started) / 1000 }),
    );
  });
}

const sourceEnv = () => ({
  USERS_DATABASE_URL: source.databases.users,
  ORDERS_DATABASE_URL: source.databases.orders,
  PAYMENTS_DATABASE_URL: source.databases.payments,
});

/** The objects in the bucket: key -> size in bytes. */
async function bucket(): Promise<Map<string, number>> {
  const xml = await (await fetch(`${s3}/${BUCKET}?list-type=2&prefix=dev/`)).text();
  const objects = new Map<string, number>();
  for (const [, body] of xml.matchAll(/<Contents>(.*?)<\/Contents>/gs)) {
    const key = /<Key>(.*?)<\/Key>/.exec(body ?? '')?.[1];
    const size = /<Size>(\d+)<\/Size>/.exec(body ?? '')?.[1];
    if (key) objects.set(key, Number(size));
  }
  return objects;
}

/** Each table's row count and an md5 over all its rows, in a stable order. */
async function fingerprint(urls: Record<Db, string>) {
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const [db, tables] of Object.entries(TABLES) as [Db, readonly string[]][]) {
    const client = new pg.Client({ connectionString: urls[db] });
    await client.connect();
    try {
      for (const table of tables) {
        const { rows } = await client.query<{ n: number; md5: string }>(
          `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS md5 FROM ${table} t`,
        );
        out[table] = { rows: rows[0]?.n ?? -1, md5: rows[0]?.md5 ?? '' };
      }
    } finally {
      await client.end();
    }
  }
  return out;
}

describe('the backup playbook and the restore drill', () => {
  const { api, newCustomer, placeOrder } = gatewayClient(() => source.gateway);
  let customer: { id: string; token: string };

  it('backs up every database to S3 after reading each dump back', async () => {
    customer = await newCustomer();
    for (let i = 0; i < 3; i++) assert.equal((await placeOrder(customer.token)).status, 201);
    const cancelled = await placeOrder(customer.token);
    assert.equal(
      (
        await api('POST', `/orders/${cancelled.body['id'] as string}/cancel`, {
          token: customer.token,
        })
      ).status,
      200,
    );
    const load = await runLoad({
      target: source.gateway,
      rate: 20,
      durationMs: 5000,
      mix: { visa: 80, declined: 10, browse: 10 },
      users: 5,
      minSuccess: 100,
    });
    assert.equal(load.passed, true);

    const run = await playbook('backup.yml', sourceEnv());
    assert.equal(run.code, 0, run.output);
    const objects = await bucket();
    assert.equal(objects.size, 3, [...objects.keys()].join(', '));
    for (const service of ['user-service', 'order-service', 'payment-service'])
      assert.ok(
        [...objects.keys()].some((k) =>
          new RegExp(`^dev/${service}/\\d{8}T\\d{6}Z\\.dump$`).test(k),
        ),
        service,
      );
    const lifecycle = await (await fetch(`${s3}/${BUCKET}?lifecycle`)).text();
    assert.match(lifecycle, /<ID>flotilla-backup-retention<\/ID>/);
    assert.match(lifecycle, /<Days>30<\/Days>/);
    say(
      `backup.yml: ${run.seconds.toFixed(1)} s; dumps ${[...objects].map(([k, size]) => `${k.split('/')[1]} ${(size / 1024).toFixed(1)} KiB`).join(', ')}`,
    );
  });

  it('fails the check step on a truncated dump, before anything is uploaded', async () => {
    const before = await bucket();
    // A pg_dump whose file is cut in half after it exits 0, as a full disk or a lost write
    // would leave it.
    const bin = join(scratch, 'truncating-bin');
    rmSync(bin, { recursive: true, force: true });
    const real = execFileSync('sh', ['-c', 'command -v pg_dump'], { encoding: 'utf8' }).trim();
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, 'pg_dump'),
      [
        '#!/bin/sh',
        `"${real}" "$@" || exit $?`,
        'for arg in "$@"; do case "$arg" in --file=*) file="${arg#--file=}";; esac; done',
        'truncate -s $(( $(stat -c %s "$file") / 2 )) "$file"',
        '',
      ].join('\n'),
    );
    chmodSync(join(bin, 'pg_dump'), 0o755);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new stamp, were anything uploaded
    const run = await playbook('backup.yml', sourceEnv(), bin);
    assert.notEqual(run.code, 0, run.output);
    assert.match(
      run.output,
      /TASK \[Check each dump can be read back in full\][^]*failed: \[flotilla-dev\]/,
    );
    assert.match(run.output, /pg_restore: error: could not read from input file: end of file/);
    assert.doesNotMatch(run.output, /TASK \[Upload each dump/);
    assert.deepEqual(await bucket(), before, 'nothing was uploaded');
    say(`truncated dump: the check failed after ${run.seconds.toFixed(1)} s, no upload`);
  });

  it('restores the latest dumps into fresh databases, the services start on them, and every row is there', async () => {
    const targets = {
      users: await createTestDatabase(infra.databaseUrl, 'restore_users'),
      orders: await createTestDatabase(infra.databaseUrl, 'restore_orders'),
      payments: await createTestDatabase(infra.databaseUrl, 'restore_payments'),
    };
    restored.push(...Object.values(targets));
    const expected = await fingerprint(source.databases);

    const run = await playbook('restore.yml', {
      RESTORE_USERS_DATABASE_URL: targets.users.url,
      RESTORE_ORDERS_DATABASE_URL: targets.orders.url,
      RESTORE_PAYMENTS_DATABASE_URL: targets.payments.url,
    });
    assert.equal(run.code, 0, run.output);
    const urls = {
      users: targets.users.url,
      orders: targets.orders.url,
      payments: targets.payments.url,
    };
    assert.deepEqual(await fingerprint(urls), expected);
    assert.ok((expected['orders']?.rows ?? 0) > 50 && (expected['refunds']?.rows ?? 0) > 0);

    // The services on the restored databases: a user logs in and finds their orders.
    const started = performance.now();
    const drill = await startSystem({}, { databases: urls });
    try {
      const startedIn = (performance.now() - started) / 1000;
      const client = gatewayClient(() => drill.gateway);
      const db = new pg.Client({ connectionString: urls.users });
      await db.connect();
      const email = (
        await db.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [customer.id])
      ).rows[0]?.email;
      await db.end();
      const login = await client.api('POST', '/auth/login', {
        body: { email, password: 'correct horse battery staple' },
      });
      assert.equal(login.status, 200);
      const listed = await client.api('GET', '/orders?limit=100', {
        token: login.body['accessToken'] as string,
      });
      assert.equal(listed.status, 200);
      assert.equal(listed.body['items'].length, 4);
      // And restoring again over live data is refused.
      const again = await playbook('restore.yml', {
        RESTORE_USERS_DATABASE_URL: targets.users.url,
        RESTORE_ORDERS_DATABASE_URL: targets.orders.url,
        RESTORE_PAYMENTS_DATABASE_URL: targets.payments.url,
      });
      assert.notEqual(again.code, 0);
      assert.match(
        again.output,
        /TASK \[Refuse a target database that is not empty\][^]*failed: \[flotilla-dev\]/,
      );
      say(
        `restore.yml: ${run.seconds.toFixed(1)} s; services up on the restored databases in ${startedIn.toFixed(1)} s; ` +
          Object.entries(expected)
            .map(([table, f]) => `${table} ${f.rows} rows md5 ${f.md5.slice(0, 8)}`)
            .join(', ') +
          ' (equal in the restored databases)',
      );
    } finally {
      await drill.stop();
    }
  });
});
