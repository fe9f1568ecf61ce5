/** PostgreSQL's unique_violation: a statement found a key taken (on `constraint`, when one is named). */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const found = error as { code?: string; constraint?: string } | null | undefined;
  return found?.code === '23505' && (constraint === undefined || found.constraint === constraint);
}
