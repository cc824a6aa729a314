import { FieldCondition, PayloadFilter } from 'src/platform/vectors/vector-store';

/**
 * Translates a validated filter into a SQL condition on `payload`, appending its
 * parameters to `params`. Keys and values travel only inside JSON parameters, never in
 * the SQL text. Returns `TRUE` for a filter without conditions.
 */
export function buildPayloadFilterSql(filter: PayloadFilter | undefined, params: unknown[]): string {
  const clauses: string[] = [];
  for (const condition of filter?.must ?? []) {
    clauses.push(conditionSql(condition, params));
  }
  for (const condition of filter?.must_not ?? []) {
    clauses.push(`NOT ${conditionSql(condition, params)}`);
  }
  return clauses.length === 0 ? 'TRUE' : clauses.join(' AND ');
}

/**
 * Builds one containment test per condition. Each value becomes two JSON documents,
 * `{key: value}` and `{key: [value]}`, so that a field holding an array matches when one
 * element matches, as in Qdrant. jsonb containment compares types, so the string "1"
 * does not match the number 1. Postgres 15 can use the GIN index on payload for
 * `payload @> ANY(array)` (checked with EXPLAIN).
 */
function conditionSql(condition: FieldCondition, params: unknown[]): string {
  const { key, match } = condition;
  const values = 'value' in match ? [match.value] : match.any;
  const documents = values.flatMap((value) => [JSON.stringify({ [key]: value }), JSON.stringify({ [key]: [value] })]);
  params.push(documents);
  return `(payload @> ANY($${params.length}::jsonb[]))`;
}
