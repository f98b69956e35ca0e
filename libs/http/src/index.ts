export { createAdminApp, tokenMatcher, type AdminAppOptions } from './admin.ts';
export { createServiceApp, type ServiceAppOptions } from './app.ts';
export {
  AppError,
  commonErrors,
  defineErrors,
  type AppErrorOptions,
  type ErrorCatalog,
  type FieldIssue,
} from './errors.ts';
export {
  PROBLEM_CONTENT_TYPE,
  errorHandler,
  notFoundHandler,
  toProblem,
  type Problem,
} from './problem.ts';
export { NOT_FORWARDED_HEADERS, RELEASE_TOKEN_HEADER } from './proxy-headers.ts';
export { REQUEST_ID_HEADER, requestId } from './request-id.ts';
export { systemRoutes, type SystemRoutes } from './system-routes.ts';
export {
  DEFAULT_SERVER_TIMEOUTS,
  createHttpServer,
  listen,
  type ServerTimeouts,
} from './server.ts';
export { validate, type RequestPart } from './validate.ts';
export {
  buildOpenApiDocument,
  methodNotAllowed,
  openApiRoutes,
  problemResponse,
  type OpenApiDocument,
  type OperationLink,
  type OpenApiInfo,
  type OperationSpec,
} from './openapi.ts';
