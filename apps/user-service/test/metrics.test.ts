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

describe('GET /metrics', () => {
  it('exposes RED series labelled by route template after traffic', async () => {
    const input = buildUser();
    const user = (await request(service.app).post('/users').send(input).expect(201)).body as {
      id: string;
    };
    const token = (
      await request(service.app)
        .post('/auth/login')
        .send({ email: input.email, password: input.password })
    ).body.accessToken as string;
    await request(service.app)
      .get(`/users/${user.id}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    await request(service.app)
      .get('/users/00000000-0000-4000-8000-000000000000')
      .set('Authorization', `Bearer ${token}`)
      .expect(403);
    await request(service.app).get('/definitely/not/here').expect(404);

    const res = await request(service.app).get('/metrics').expect(200);
    assert.match(res.headers['content-type'] ?? '', /text\/plain/);
    // Only our own series: a failed match then prints a short diff, not the whole exposition.
    const text = res.text
      .split('\n')
      .filter((line) => line.startsWith('http_server_'))
      .join('\n');
    assert.match(
      text,
      /http_server_requests_total\{method="POST",route="\/users",status_code="201",service="user-service"\} 1/,
    );
    assert.match(
      text,
      /http_server_requests_total\{method="GET",route="\/users\/:id",status_code="200",service="user-service"\} 1/,
    );
    assert.match(
      text,
      /http_server_requests_total\{method="GET",route="\/users\/:id",status_code="403",service="user-service"\} 1/,
    );
    assert.match(
      text,
      /http_server_requests_total\{method="GET",route="unmatched",status_code="404",service="user-service"\} 1/,
    );
    assert.match(
      text,
      /http_server_request_duration_seconds_bucket\{le="\+Inf",service="user-service",method="POST",route="\/auth\/login",status_code="200"\} 1/,
    );
    assert.match(
      text,
      /http_server_request_duration_seconds_count\{service="user-service",method="POST",route="\/auth\/login",status_code="200"\} 1/,
    );
    assert.ok(!text.includes(user.id), 'raw ids never become labels');
    assert.ok(!text.includes('/definitely/not/here'), 'raw URLs never become labels');
  });

  it('exposes pool, Redis and process metrics', async () => {
    const text = (await request(service.app).get('/metrics').expect(200)).text;
    assert.match(text, /db_pool_connections\{state="total",service="user-service"\} \d+/);
    assert.match(text, /redis_connected\{service="user-service"\} 1/);
    assert.match(text, /nodejs_eventloop_lag_seconds/);
    assert.match(text, /process_resident_memory_bytes/);
  });
});
