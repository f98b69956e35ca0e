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

async function registerAndLogin(overrides: Parameters<typeof buildUser>[0] = {}) {
  const input = buildUser(overrides);
  const created = await request(service.app).post('/users').send(input).expect(201);
  const login = await request(service.app)
    .post('/auth/login')
    .send({ email: input.email, password: input.password })
    .expect(200);
  return {
    input,
    user: created.body as { id: string; email: string },
    token: login.body.accessToken as string,
  };
}

describe('POST /users', () => {
  it('registers a user and never returns the password or its hash', async () => {
    const input = buildUser({ name: 'Grace Hopper' });
    const res = await request(service.app).post('/users').send(input);

    assert.equal(res.status, 201);
    assert.match(res.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.email, input.email);
    assert.equal(res.body.name, 'Grace Hopper');
    assert.ok(!Number.isNaN(Date.parse(res.body.createdAt)));
    assert.equal(res.headers['location'], `/users/${res.body.id}`);
    const raw = JSON.stringify(res.body);
    assert.ok(!raw.includes(input.password));
    assert.ok(!/hash/i.test(raw));
  });

  it('stores an argon2id hash, not the password', async () => {
    const input = buildUser();
    const res = await request(service.app).post('/users').send(input).expect(201);
    const { rows } = await service.deps.db.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE id = $1',
      [res.body.id],
    );
    assert.match(rows[0]?.password_hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('returns 409 when the email is already registered, whatever its case', async () => {
    const input = buildUser({ email: 'Case.Sensitive@Example.com' });
    await request(service.app).post('/users').send(input).expect(201);
    const res = await request(service.app)
      .post('/users')
      .send({ ...input, email: 'case.sensitive@EXAMPLE.COM' });

    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'USER_EMAIL_TAKEN');
    assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
  });

  it('gives exactly one 201 and nine 409 for 10 parallel registrations of one email', async () => {
    const input = buildUser();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => request(service.app).post('/users').send(input)),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, ...Array<number>(9).fill(409)]);
    const { rows } = await service.deps.db.query(
      'SELECT 1 FROM users WHERE lower(email) = lower($1)',
      [input.email],
    );
    assert.equal(rows.length, 1);
  });
});

describe('GET /users/me and GET /users/:id', () => {
  it('returns the caller profile', async () => {
    const { user, token } = await registerAndLogin({ name: 'Me Myself' });
    const res = await request(service.app)
      .get('/users/me')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    assert.equal(res.body.id, user.id);
    assert.equal(res.body.name, 'Me Myself');
  });

  it('returns 401 without a token and with a tampered one', async () => {
    const { token } = await registerAndLogin();
    const missing = await request(service.app).get('/users/me');
    assert.equal(missing.status, 401);
    assert.equal(missing.body.code, 'UNAUTHENTICATED');
    assert.equal(missing.headers['www-authenticate'], 'Bearer');

    const tampered = `${token.slice(0, -4)}AAAA`;
    const bad = await request(service.app)
      .get('/users/me')
      .set('Authorization', `Bearer ${tampered}`);
    assert.equal(bad.status, 401);
    assert.equal(bad.body.code, 'TOKEN_INVALID');

    const notBearer = await request(service.app)
      .get('/users/me')
      .set('Authorization', `Basic ${token}`);
    assert.equal(notBearer.status, 401);
  });

  it("returns 403 for another user's profile", async () => {
    const alice = await registerAndLogin();
    const bob = await registerAndLogin();
    const res = await request(service.app)
      .get(`/users/${bob.user.id}`)
      .set('Authorization', `Bearer ${alice.token}`);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'FORBIDDEN');
  });

  it('lets an admin read any profile, and 404s an unknown id', async () => {
    const admin = await registerAndLogin();
    await service.deps.db.query("UPDATE users SET role = 'admin' WHERE id = $1", [admin.user.id]);
    const adminToken = (
      await request(service.app)
        .post('/auth/login')
        .send({ email: admin.input.email, password: admin.input.password })
    ).body.accessToken as string;
    const other = await registerAndLogin({ name: 'Someone Else' });

    const read = await request(service.app)
      .get(`/users/${other.user.id}`)
      .set('Authorization', `Bearer ${adminToken}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.name, 'Someone Else');

    const missing = await request(service.app)
      .get('/users/00000000-0000-4000-8000-000000000000')
      .set('Authorization', `Bearer ${adminToken}`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'USER_NOT_FOUND');
  });

  it('returns 400 for an id that is not a UUID', async () => {
    const { token } = await registerAndLogin();
    const res = await request(service.app).get('/users/42').set('Authorization', `Bearer ${token}`);
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.body.errors.map((e: { path: string }) => e.path),
      ['params.id'],
    );
  });
});

describe('PATCH /users/:id', () => {
  it('changes the name', async () => {
    const { user, token } = await registerAndLogin({ name: 'Old Name' });
    const res = await request(service.app)
      .patch(`/users/${user.id}`)
      .set('Authorization', `Bearer ${token}`)
      .send({ name: 'New Name' })
      .expect(200);
    assert.equal(res.body.name, 'New Name');
    assert.ok(Date.parse(res.body.updatedAt) >= Date.parse(res.body.createdAt));
  });

  it('changes the password only with the current one', async () => {
    const { input, user, token } = await registerAndLogin();
    const auth = { Authorization: `Bearer ${token}` };

    const without = await request(service.app)
      .patch(`/users/${user.id}`)
      .set(auth)
      .send({ newPassword: 'brand new secret' });
    assert.equal(without.status, 400);
    assert.deepEqual(
      without.body.errors.map((e: { path: string }) => e.path),
      ['body.currentPassword'],
    );

    const wrong = await request(service.app)
      .patch(`/users/${user.id}`)
      .set(auth)
      .send({ currentPassword: 'not it at all', newPassword: 'brand new secret' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.code, 'AUTH_CURRENT_PASSWORD_WRONG');

    await request(service.app)
      .patch(`/users/${user.id}`)
      .set(auth)
      .send({ currentPassword: input.password, newPassword: 'brand new secret' })
      .expect(200);

    await request(service.app)
      .post('/auth/login')
      .send({ email: input.email, password: input.password })
      .expect(401);
    await request(service.app)
      .post('/auth/login')
      .send({ email: input.email, password: 'brand new secret' })
      .expect(200);
  });

  it("returns 403 when changing another user's profile", async () => {
    const alice = await registerAndLogin();
    const bob = await registerAndLogin({ name: 'Bob' });
    const res = await request(service.app)
      .patch(`/users/${bob.user.id}`)
      .set('Authorization', `Bearer ${alice.token}`)
      .send({ name: 'Hacked' });
    assert.equal(res.status, 403);
    const { rows } = await service.deps.db.query<{ name: string }>(
      'SELECT name FROM users WHERE id = $1',
      [bob.user.id],
    );
    assert.equal(rows[0]?.name, 'Bob');
  });

  it('returns 400 for an empty change', async () => {
    const { user, token } = await registerAndLogin();
    const res = await request(service.app)
      .patch(`/users/${user.id}`)
      .set('Authorization', `Bearer ${token}`)
      .send({});
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
  });
});
