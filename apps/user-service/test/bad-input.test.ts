import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { buildUser, startService, type ServiceUnderTest } from './helpers.ts';

let service: ServiceUnderTest;

before(async () => {
  service = await startService();
});
after(async () => {
  await service.stop();
});

function paths(body: { errors?: { path: string }[] }): string[] {
  return [...new Set((body.errors ?? []).map((e) => e.path))].sort();
}

describe('bad input to POST /users', () => {
  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await request(service.app)
      .post('/users')
      .set('Content-Type', 'application/json')
      .send('{"email": "a@b.c",');
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'MALFORMED_JSON');
    assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
  });

  it('answers wrong types with 400 and every failing field path', async () => {
    const res = await request(service.app)
      .post('/users')
      .send({ email: 42, password: ['x'], name: { first: 'A' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
    assert.deepEqual(paths(res.body), ['body.email', 'body.name', 'body.password']);
  });

  it('answers a missing body, an array body and a JSON string body with 400', async () => {
    for (const body of [undefined, '[]', '"just a string"']) {
      const req = request(service.app).post('/users');
      const res =
        body === undefined
          ? await req
          : await req.set('Content-Type', 'application/json').send(body);
      assert.equal(res.status, 400, `body ${String(body)}`);
    }
  });

  it('answers a body over the limit with 413', async () => {
    const res = await request(service.app)
      .post('/users')
      .send(buildUser({ name: 'x'.repeat(200 * 1024) }));
    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'PAYLOAD_TOO_LARGE');
  });

  it('answers a non-JSON body with 415', async () => {
    const res = await request(service.app)
      .post('/users')
      .set('Content-Type', 'text/plain')
      .send('email=a@b.c');
    assert.equal(res.status, 415);
    assert.equal(res.body.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses strings over their limits', async () => {
    const res = await request(service.app)
      .post('/users')
      .send({
        email: `${'a'.repeat(250)}@example.com`,
        password: 'p'.repeat(257),
        name: 'n'.repeat(201),
      });
    assert.equal(res.status, 400);
    assert.deepEqual(paths(res.body), ['body.email', 'body.name', 'body.password']);
  });

  it('refuses unknown fields such as a self-assigned role', async () => {
    const res = await request(service.app)
      .post('/users')
      .send({ ...buildUser(), role: 'admin' });
    assert.equal(res.status, 400);
    const { rows } = await service.deps.db.query("SELECT 1 FROM users WHERE role = 'admin'");
    assert.equal(rows.length, 0);
  });

  it('refuses control characters such as NUL in a name', async () => {
    const res = await request(service.app)
      .post('/users')
      .send(buildUser({ name: 'bad\u0000name' }));
    assert.equal(res.status, 400);
    assert.deepEqual(paths(res.body), ['body.name']);
  });

  it('keeps unicode names exactly as sent', async () => {
    for (const name of ['Zoë Ångström', '山田 太郎', 'محمد', '👩‍🚀 Astronaut', 'e\u0301']) {
      const created = await request(service.app)
        .post('/users')
        .send(buildUser({ name }))
        .expect(201);
      assert.equal(created.body.name, name);
      const { rows } = await service.deps.db.query<{ name: string }>(
        'SELECT name FROM users WHERE id = $1',
        [created.body.id],
      );
      assert.equal(rows[0]?.name, name);
    }
  });

  it('stores SQL-like strings as plain data', async () => {
    const name = "Robert'); DROP TABLE users;--";
    const email = `o'brien+${Date.now()}@example.com`;
    const created = await request(service.app)
      .post('/users')
      .send(buildUser({ name, email }))
      .expect(201);
    assert.equal(created.body.name, name);
    const login = await request(service.app)
      .post('/auth/login')
      .send({ email: "' OR '1'='1", password: "' OR '1'='1" });
    assert.equal(login.status, 401);
    const { rows } = await service.deps.db.query<{ n: string }>('SELECT count(*) AS n FROM users');
    assert.ok(Number(rows[0]?.n) >= 1);
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await request(service.app).get('/no/such/thing');
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'ROUTE_NOT_FOUND');
  });

  it('leaves nothing half-written after rejected requests', async () => {
    const input = buildUser();
    await request(service.app)
      .post('/users')
      .send({ ...input, name: '' })
      .expect(400);
    const { rows } = await service.deps.db.query('SELECT 1 FROM users WHERE email = $1', [
      input.email,
    ]);
    assert.equal(rows.length, 0);
    await request(service.app).post('/users').send(input).expect(201);
  });
});
