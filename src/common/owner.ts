import { createHash } from 'node:crypto';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/** The caller on whose behalf a request acts. */
export interface Owner {
  id: string;
  displayName: string;
}

/** Owner ids are the first 16 hex characters of SHA-256 of the user name, as in the reference system. */
export function ownerIdFor(username: string): string {
  return createHash('sha256').update(username).digest('hex').slice(0, 16);
}

// Limitation: authentication does not exist yet, so every request acts as this one local user.
export const LOCAL_OWNER: Owner = { id: ownerIdFor('local'), displayName: 'local' };

/** Injects the caller of the current request (`@CurrentOwner() owner: Owner`). */
export const CurrentOwner = createParamDecorator((_data: unknown, _context: ExecutionContext): Owner => LOCAL_OWNER);
