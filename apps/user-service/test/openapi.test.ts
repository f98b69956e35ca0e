import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { startService, type ServiceUnderTest } from './helpers.ts';

let service: ServiceUnderTest;

before(async () => {
  service = await startService();
});
after(async () => {
  await service.stop();
});

describe('GET /openapi.json', () => {
  it('describes every route with the schemas the routes validate with', async () => {
    const res = await request(service.app).get('/openapi.json').expect(200);
    const doc = res.body;

    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/auth/login',
      '/auth/token',
      '/users',
      '/users/me',
      '/users/{id}',
    ]);
    const register = doc.paths['/users'].post.requestBody.content['application/json'].schema;
    assert.deepEqual([...register.required].sort(), ['email', 'name', 'password']);
    assert.equal(register.additionalProperties, false);
    assert.equal(register.properties.password.minLength, 8);
    assert.equal(register.properties.name.maxLength, 200);
    assert.deepEqual(doc.paths['/users/{id}'].get.security, [{ bearerAuth: [] }]);
    assert.equal(doc.paths['/users/{id}'].get.parameters[0].name, 'id');
  });
});
