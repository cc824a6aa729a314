export const ROLES = ['api', 'worker-collections', 'worker-datasets', 'worker-viz', 'inference'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Parses `ROLE`: one role, a comma-separated list, or `all`. Throws a message that names
 * the variable and the accepted values when a name is not known.
 */
export function parseRoles(raw: string | undefined): Role[] {
  const names = (raw ?? 'all')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0) {
    throw new Error(`ROLE is empty; accepted values: all, ${ROLES.join(', ')} or a comma-separated list of them`);
  }

  const roles = new Set<Role>();
  for (const name of names) {
    if (name === 'all') {
      ROLES.forEach((role) => roles.add(role));
    } else if ((ROLES as readonly string[]).includes(name)) {
      roles.add(name as Role);
    } else {
      throw new Error(
        `ROLE contains unknown role "${name}"; accepted values: all, ${ROLES.join(', ')} or a comma-separated list of them`,
      );
    }
  }
  return ROLES.filter((role) => roles.has(role));
}
