import { buildOpenApiDocument } from '@flotilla/http';
import {
  loginBody,
  registerBody,
  tokenView,
  updateBody,
  userIdParams,
  userView,
} from './users/users.schemas.ts';

/** user-service's OpenAPI document, built from the schemas the routes validate with. */
export const openApiDocument = buildOpenApiDocument(
  { title: 'user-service', version: '1.0.0', description: 'Registration, login and user profiles' },
  [
    {
      method: 'post',
      path: '/users',
      summary: 'Register a user',
      tags: ['users'],
      body: registerBody,
      responses: {
        201: { description: 'Registered', schema: userView },
        400: { description: 'Invalid input' },
        409: { description: 'Email already registered (USER_EMAIL_TAKEN)' },
      },
    },
    {
      method: 'post',
      path: '/auth/login',
      summary: 'Log in and get an access token',
      tags: ['auth'],
      body: loginBody,
      responses: {
        200: { description: 'Access token', schema: tokenView },
        401: { description: 'Wrong email or password (AUTH_INVALID_CREDENTIALS)' },
      },
    },
    {
      method: 'get',
      path: '/users/me',
      summary: "The caller's profile",
      tags: ['users'],
      auth: true,
      responses: {
        200: { description: 'Profile', schema: userView },
        401: { description: 'No valid token' },
      },
    },
    {
      method: 'get',
      path: '/users/{id}',
      summary: 'A profile (self or admin)',
      tags: ['users'],
      auth: true,
      params: userIdParams,
      responses: {
        200: { description: 'Profile', schema: userView },
        401: { description: 'No valid token' },
        403: { description: 'Not yours' },
        404: { description: 'No such user' },
      },
    },
    {
      method: 'patch',
      path: '/users/{id}',
      summary: 'Change the name or the password',
      tags: ['users'],
      auth: true,
      params: userIdParams,
      body: updateBody,
      responses: {
        200: { description: 'Updated profile', schema: userView },
        400: { description: 'Invalid input' },
        403: { description: 'Not yours, or wrong current password' },
        404: { description: 'No such user' },
      },
    },
  ],
);
