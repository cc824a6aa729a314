import { NextFunction, Request, Response } from 'express';

/** Deeper request bodies are rejected: no endpoint takes more than a few levels. */
export const MAX_JSON_DEPTH = 64;

/**
 * Returns the nesting depth of a parsed JSON value, stopping once it passes `limit`. It walks
 * with an explicit stack, because the recursive walks of validation pipes overflow the call
 * stack on bodies nested some thousand levels deep and turn them into 500s.
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (typeof current.value !== 'object' || current.value === null) continue;
    const depth = current.depth + 1;
    if (depth > limit) return true;
    for (const child of Object.values(current.value)) stack.push({ value: child, depth });
  }
  return false;
}

/** Rejects JSON bodies nested deeper than MAX_JSON_DEPTH with a 400 naming the limit. */
export function rejectDeepJson(request: Request, response: Response, next: NextFunction): void {
  if (request.body !== undefined && jsonDepthExceeds(request.body, MAX_JSON_DEPTH)) {
    response.status(400).json({
      code: 'body_too_deep',
      message: `request body is nested more than ${MAX_JSON_DEPTH} levels deep`,
      request_id: typeof (request as Request & { id?: unknown }).id === 'string' ? (request as Request & { id?: string }).id : undefined,
    });
    return;
  }
  next();
}
