/** The services `npm start` runs, in start order, with their local ports and databases. */
export interface ServiceDefinition {
  /** Nx project name and folder under apps/. */
  readonly name: string;
  readonly port: number;
  /** Database created for it on the shared PostgreSQL server. */
  readonly database: string;
}

export const SERVICES: readonly ServiceDefinition[] = [
  { name: 'user-service', port: 3001, database: 'flotilla_users' },
];
