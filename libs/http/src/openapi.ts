import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { commonErrors } from './errors.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** An OpenAPI link: how a response feeds the parameters of another operation. */
export interface OperationLink {
  operationId: string;
  /** Parameter name -> runtime expression, e.g. `$response.body#/id`. */
  parameters: Record<string, string>;
  description?: string;
}

/** One operation, described with the same zod schemas the route validates with. */
export interface OperationSpec {
  method: Method;
  /** OpenAPI path template: `/users/{id}`. */
  path: string;
  /** Stable name of the operation, used by links and by generated clients. */
  operationId: string;
  summary: string;
  tags?: string[];
  /** Requires a bearer token. */
  auth?: boolean;
  /** Who may call it and on what, for the description: `user (own orders), admin (any)`. */
  roles?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Header parameters, e.g. `Idempotency-Key`. */
  headers?: z.ZodObject;
  body?: z.ZodType;
  /**
   * Status -> description and, when the reply has a body, its schema; errors use the problem
   * schema. The answers every route of the kit can give (400, 401, 413, 415, 500, 503) are added.
   */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** Status -> links from that response to other operations. */
  links?: Record<number, Record<string, OperationLink>>;
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** An OpenAPI 3.1 document (JSON Schema 2020-12 dialect). */
export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
};

const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details with a stable code',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

/** A problem+json response, for this document and for the gateway's additions. */
export function problemResponse(
  description: string,
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>,
): Record<string, unknown> {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const converted = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  // The dialect is declared once for the whole document (OpenAPI 3.1 defaults to 2020-12).
  delete converted['$schema'];
  return converted;
}

function parameters(schema: z.ZodObject | undefined, where: 'path' | 'query' | 'header') {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    schema: property,
  }));
}

const AUTH_CHALLENGE = {
  'WWW-Authenticate': {
    description: 'The scheme to authenticate with',
    schema: { type: 'string' },
  },
};

/** The answers the kit gives on any route, by what the operation takes. */
function kitResponses(op: OperationSpec): Record<number, Record<string, unknown>> {
  const responses: Record<number, Record<string, unknown>> = {};
  if (op.body) {
    responses[400] = problemResponse(
      'Invalid input (VALIDATION_FAILED with the failing fields) or a body that is not JSON (MALFORMED_JSON)',
    );
    responses[413] = problemResponse('The body is larger than the limit (PAYLOAD_TOO_LARGE)');
    responses[415] = problemResponse('The body is not application/json (UNSUPPORTED_MEDIA_TYPE)');
  } else if (op.params ?? op.query ?? op.headers) {
    responses[400] = problemResponse('Invalid input (VALIDATION_FAILED with the failing fields)');
  }
  if (op.auth) {
    responses[401] = problemResponse(
      'No bearer token (UNAUTHENTICATED), or one that is invalid or expired (TOKEN_INVALID)',
      AUTH_CHALLENGE,
    );
  }
  responses[500] = problemResponse(
    'Unexpected error (INTERNAL); the detail is in the logs, not here',
  );
  responses[503] = problemResponse(
    'A dependency such as the database is unavailable (SERVICE_UNAVAILABLE), or a fault is injected (FAULT_INJECTED)',
  );
  return responses;
}

function describeSecurity(op: OperationSpec): string {
  if (!op.auth) return 'Public: no token needed.';
  return `Needs a bearer token.${op.roles ? ` Roles: ${op.roles}.` : ''}`;
}

/**
 * Builds an OpenAPI 3.1 document from operation specs whose schemas are the zod schemas the
 * routes validate with, so the document cannot drift from what the service accepts.
 */
export function buildOpenApiDocument(
  info: OpenApiInfo,
  operations: readonly OperationSpec[],
): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const responses: Record<string, unknown> = {};
    const declared = { ...kitResponses(op) } as Record<number, unknown>;
    for (const [status, response] of Object.entries(op.responses)) {
      const isError = Number(status) >= 400;
      const links = op.links?.[Number(status)];
      declared[Number(status)] = {
        description: response.description,
        ...(isError && !response.schema
          ? problemResponse(response.description)
          : response.schema
            ? {
                content: {
                  'application/json': { schema: jsonSchema(response.schema, 'output') },
                },
              }
            : {}),
        ...(links ? { links } : {}),
      };
    }
    for (const status of Object.keys(declared).sort()) {
      responses[status] = declared[Number(status)];
    }
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      description: describeSecurity(op),
      ...(op.tags ? { tags: op.tags } : {}),
      security: op.auth ? [{ bearerAuth: [] }] : [],
      parameters: [
        ...parameters(op.params, 'path'),
        ...parameters(op.query, 'query'),
        ...parameters(op.headers, 'header'),
      ],
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(op.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'An ES256 access token from POST /auth/login (users) or POST /auth/token (services)',
        },
      },
    },
  };
}

/** `GET /openapi.json` serving a document built once. */
export function openApiRoutes(document: OpenApiDocument): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  return router;
}

/**
 * Answers 405 with `Allow` (RFC 9110 15.5.6) for a method the document does not list on a path it
 * does. A path matches its most concrete template, as in OpenAPI (`/users/me` before
 * `/users/{id}`); mounted before the routes, so a route with a parameter never sees such a path.
 */
export function methodNotAllowed(document: OpenApiDocument): RequestHandler {
  const templates = Object.entries(document.paths)
    .map(([path, item]) => {
      const methods = Object.keys(item).map((m) => m.toUpperCase());
      if (methods.includes('GET')) methods.push('HEAD');
      const pattern = new RegExp(
        `^${path
          .split(/\{[^}]+\}/)
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]+')}/?$`,
      );
      const templated = (path.match(/\{/g) ?? []).length;
      return { pattern, methods, templated, allow: methods.join(', ') };
    })
    .sort((a, b) => a.templated - b.templated);
  return (req, _res, next) => {
    const known = templates.find((t) => t.pattern.test(req.path));
    if (!known || known.methods.includes(req.method)) {
      next();
      return;
    }
    next(
      commonErrors.create('METHOD_NOT_ALLOWED', {
        message: `${req.method} is not allowed on ${req.path}; allowed: ${known.allow}.`,
        headers: { Allow: known.allow },
      }),
    );
  };
}
