import { buildOpenApiDocument } from '@flotilla/http';
import {
  clientCredentialsBody,
  loginBody,
  registerBody,
  tokenView,
  updateBody,
  userIdParams,
  userView,
} from './users/users.schemas.ts';

const userLinks = {
  GetUser: {
    operationId: 'getUser',
    parameters: { id: '$response.body#/id' },
    description: 'The profile just returned, read back by id',
  },
  UpdateUser: {
    operationId: 'updateUser',
    parameters: { id: '$response.body#/id' },
    description: 'Change its name or password',
  },
};

/** user-service's OpenAPI document, built from the schemas the routes validate with. */
export const openApiDocument = buildOpenApiDocument(
  { title: 'user-service', version: '1.0.0', description: 'Registration, login and user profiles' },
  [
    {
      method: 'post',
      path: '/users',
      operationId: 'registerUser',
      summary: 'Register a user',
      tags: ['users'],
      body: registerBody,
      responses: {
        201: { description: 'Registered', schema: userView },
        409: { description: 'Email already registered (USER_EMAIL_TAKEN)' },
      },
      links: { 201: userLinks },
    },
    {
      method: 'post',
      path: '/auth/login',
      operationId: 'login',
      summary: 'Log in and get an access token',
      tags: ['auth'],
      body: loginBody,
      responses: {
        200: { description: 'Access token', schema: tokenView },
        401: { description: 'Wrong email or password (AUTH_INVALID_CREDENTIALS)' },
      },
    },
    {
      method: 'post',
      path: '/auth/token',
      operationId: 'serviceToken',
      summary: 'A service token (OAuth 2.0 client credentials grant)',
      tags: ['auth'],
      body: clientCredentialsBody,
      responses: {
        200: { description: 'Access token with role service', schema: tokenView },
        401: { description: 'Wrong client id or secret (AUTH_INVALID_CLIENT)' },
      },
    },
    {
      method: 'get',
      path: '/users/me',
      operationId: 'getMe',
      summary: "The caller's profile",
      tags: ['users'],
      auth: true,
      roles: 'any',
      responses: {
        200: { description: 'Profile', schema: userView },
        403: { description: 'A service token has no profile (FORBIDDEN)' },
        404: { description: 'The user was removed (USER_NOT_FOUND)' },
      },
      links: { 200: userLinks },
    },
    {
      method: 'get',
      path: '/users/{id}',
      operationId: 'getUser',
      summary: 'A profile',
      tags: ['users'],
      auth: true,
      roles: 'user (own profile), admin (any), service (any)',
      params: userIdParams,
      responses: {
        200: { description: 'Profile', schema: userView },
        403: { description: 'Not yours (FORBIDDEN)' },
        404: { description: 'No such user (USER_NOT_FOUND)' },
      },
    },
    {
      method: 'patch',
      path: '/users/{id}',
      operationId: 'updateUser',
      summary: 'Change the name or the password',
      tags: ['users'],
      auth: true,
      roles: 'user (own profile; the password needs the current one), admin (any name)',
      params: userIdParams,
      body: updateBody,
      responses: {
        200: { description: 'Updated profile', schema: userView },
        403: {
          description:
            "Not yours (FORBIDDEN), wrong current password (AUTH_CURRENT_PASSWORD_WRONG), or another user's password (AUTH_PASSWORD_CHANGE_FORBIDDEN)",
        },
        404: { description: 'No such user (USER_NOT_FOUND)' },
      },
    },
  ],
);
