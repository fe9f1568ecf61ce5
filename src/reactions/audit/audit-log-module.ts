import type { ReactionModule } from '../reaction-module.ts';
import { AuditLog } from './audit-log.ts';
import { auditLogger } from './audit-logger.ts';
import { auditRoutes } from './audit-routes.ts';
import { auditMigrations } from './audit-log-migrations.ts';

/** The audit trail: a hash-chained, append-only record of the seed's facts, and its API. */
export const auditLogModule: ReactionModule = {
  name: 'audit-log',
  migrations: auditMigrations,
  consumers: () => [auditLogger],
  routes: ({ db, catalog }) => auditRoutes({ audit: new AuditLog(db), catalog }),
};
