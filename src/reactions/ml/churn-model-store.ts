import type { Sql } from '../../kernel/db/database.ts';
import type { ChurnModelParameters } from './churn-model.ts';
import type { SetSizes } from './train-churn-model.ts';

/** A stored model version with its evaluation. */
export interface ChurnModelVersion extends SetSizes {
  version: number;
  trainedAt: Date;
  auc: number;
  logLoss: number;
  /** As stored: validated by the scorer before it is used. */
  parameters: unknown;
}

interface Row {
  version: number;
  trained_at: Date;
  training_size: number;
  test_size: number;
  training_churned: number;
  test_churned: number;
  auc: number;
  log_loss: number;
  parameters: unknown;
}

const COLUMNS =
  'version, trained_at, training_size, test_size, training_churned, test_churned, auc, log_loss, parameters';

const versionOf = (row: Row): ChurnModelVersion => ({
  version: row.version,
  trainedAt: new Date(row.trained_at),
  trainingSize: row.training_size,
  testSize: row.test_size,
  trainingChurned: row.training_churned,
  testChurned: row.test_churned,
  auc: row.auc,
  logLoss: row.log_loss,
  parameters: row.parameters,
});

/** Model versions, newest first. */
export async function listModelVersions(sql: Sql, limit: number): Promise<ChurnModelVersion[]> {
  const { rows } = await sql.query<Row>(`select ${COLUMNS} from churn_models order by version desc limit $1`, [limit]);
  return rows.map(versionOf);
}

/** The current model: the newest version. */
export async function currentModelVersion(sql: Sql): Promise<ChurnModelVersion | null> {
  return (await listModelVersions(sql, 1))[0] ?? null;
}

/** Stores the next version; the caller holds the training lock, so numbers do not collide. */
export async function storeModelVersion(
  tx: Sql,
  model: SetSizes & { trainedAt: Date; auc: number; logLoss: number; parameters: ChurnModelParameters },
): Promise<ChurnModelVersion> {
  const { rows } = await tx.query<Row>(
    `insert into churn_models (version, trained_at, training_size, test_size, training_churned, test_churned, auc, log_loss, parameters)
     select coalesce(max(version), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8 from churn_models
     returning ${COLUMNS}`,
    [
      model.trainedAt,
      model.trainingSize,
      model.testSize,
      model.trainingChurned,
      model.testChurned,
      model.auc,
      model.logLoss,
      JSON.stringify(model.parameters),
    ],
  );
  return versionOf(rows[0]!);
}

/** How many examples are recorded, and how many of them are cancellations. */
export async function countExamples(sql: Sql): Promise<{ total: number; churned: number }> {
  const { rows } = await sql.query<{ total: string; churned: string }>(
    'select count(*)::text as total, count(*) filter (where churned)::text as churned from churn_examples',
  );
  return { total: Number(rows[0]!.total), churned: Number(rows[0]!.churned) };
}
