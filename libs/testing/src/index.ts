export { freePort } from './free-port.ts';
export { until, waitFor } from './wait-for.ts';
export {
  INFRASTRUCTURE_SOURCES,
  resolveInfrastructure,
  type Infrastructure,
  type InfrastructureSource,
  type ResolveOptions,
} from './infrastructure.ts';
export {
  findLocalBinaries,
  startLocalPostgres,
  startLocalRedis,
  type LocalServer,
  type RestartableServer,
} from './local-servers.ts';
export {
  createTestDatabase,
  ensureDatabase,
  startTestInfrastructure,
  type TestDatabase,
  type TestInfrastructure,
} from './test-database.ts';
export { TEST_AUDIENCE, TEST_ISSUER, startTestIssuer, type TestIssuer } from './test-issuer.ts';
export { linkWorkspaceModules } from './workspace-clone.ts';
