/**
 * Filter parsing and matching for the Qdrant double. It covers field conditions with
 * `match.value`, `match.any` and `match.except`, combined with `must`, `must_not`,
 * `should` and nested filters, which is the part of Qdrant's filter language the
 * adapters send. Other conditions (range, geo, is_empty, has_id ...) are rejected with
 * 400 as unsupported, although real Qdrant accepts them.
 */

/** Error that the double returns with an HTTP status and a Qdrant-style message. */
export class QdrantDoubleError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

type MatchCondition =
  | { kind: 'value'; value: string | number | boolean }
  | { kind: 'any'; values: Array<string | number> }
  | { kind: 'except'; values: Array<string | number> };

export type ParsedCondition = { kind: 'field'; path: string[]; match: MatchCondition } | { kind: 'filter'; filter: ParsedFilter };

export interface ParsedFilter {
  must: ParsedCondition[];
  mustNot: ParsedCondition[];
  /** Null when the filter has no `should` clause. An empty list matches nothing. */
  should: ParsedCondition[] | null;
}

const FILTER_CLAUSES = new Set(['must', 'must_not', 'should']);

export function formatError(detail: string): QdrantDoubleError {
  return new QdrantDoubleError(400, `Format error in JSON body: ${detail}`);
}

/** Parses a request's `filter` field. `null` and `undefined` mean "no filter". */
export function parseFilter(raw: unknown): ParsedFilter | null {
  if (raw === null || raw === undefined) {
    return null;
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw formatError('filter: expected an object');
  }
  for (const clause of Object.keys(raw)) {
    if (clause === 'min_should') {
      throw new QdrantDoubleError(400, 'Unsupported by the Qdrant double: min_should');
    }
    // Qdrant's Filter schema sets additionalProperties: false.
    if (!FILTER_CLAUSES.has(clause)) {
      throw formatError(`unknown field \`${clause}\`, expected one of \`should\`, \`min_should\`, \`must\`, \`must_not\``);
    }
  }
  const record = raw as Record<string, unknown>;
  const should = parseClause(record.should, 'should');
  return {
    must: parseClause(record.must, 'must') ?? [],
    mustNot: parseClause(record.must_not, 'must_not') ?? [],
    should,
  };
}

export function matchesFilter(filter: ParsedFilter | null, payload: Record<string, unknown>): boolean {
  if (filter === null) {
    return true;
  }
  if (!filter.must.every((condition) => matchesCondition(condition, payload))) {
    return false;
  }
  if (filter.mustNot.some((condition) => matchesCondition(condition, payload))) {
    return false;
  }
  // NOTE: assumes that an explicit empty `should` list matches nothing, as `any` over no
  // conditions would. The adapter never sends one.
  return filter.should === null || filter.should.some((condition) => matchesCondition(condition, payload));
}

/** Returns the conditions of a clause, which contains one condition or a list of them. */
function parseClause(raw: unknown, clause: string): ParsedCondition[] | null {
  if (raw === null || raw === undefined) {
    return null;
  }
  const conditions = Array.isArray(raw) ? raw : [raw];
  return conditions.map((condition, index) => parseCondition(condition, `${clause}[${index}]`));
}

function parseCondition(raw: unknown, location: string): ParsedCondition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw formatError(`${location}: data did not match any variant of untagged enum Condition`);
  }
  const record = raw as Record<string, unknown>;
  if (!('key' in record)) {
    if (Object.keys(record).every((key) => FILTER_CLAUSES.has(key) || key === 'min_should')) {
      return { kind: 'filter', filter: parseFilter(record)! };
    }
    throw new QdrantDoubleError(400, `Unsupported by the Qdrant double: condition ${JSON.stringify(raw)} at ${location}`);
  }
  if (typeof record.key !== 'string') {
    throw formatError(`${location}.key: expected a string`);
  }
  const path = parseKeyPath(record.key, location);
  const otherConditions = Object.keys(record).filter((key) => key !== 'key' && key !== 'match' && record[key] != null);
  if (otherConditions.length > 0) {
    throw new QdrantDoubleError(400, `Unsupported by the Qdrant double: ${otherConditions.join(', ')} at ${location}`);
  }
  if (record.match === null || record.match === undefined) {
    throw new QdrantDoubleError(400, `Wrong input: field condition at ${location} has no condition`);
  }
  return { kind: 'field', path, match: parseMatch(record.match, location) };
}

/**
 * Parses Qdrant's JSON path for a key: segments joined by ".", each either a run of
 * letters, digits, "_" and "-", or a double-quoted string without `"` or `\`. Array
 * selectors ("[0]", "[]") are not supported by the double.
 */
function parseKeyPath(key: string, location: string): string[] {
  const segments: string[] = [];
  let rest = key;
  for (;;) {
    const raw = /^[\p{L}\p{N}_-]+/u.exec(rest);
    const quoted = /^"([^"\\]*)"/.exec(rest);
    if (raw) {
      segments.push(raw[0]);
      rest = rest.slice(raw[0].length);
    } else if (quoted) {
      segments.push(quoted[1]);
      rest = rest.slice(quoted[0].length);
    } else {
      throw formatError(`${location}.key: invalid json path ${JSON.stringify(key)}`);
    }
    if (rest === '') {
      return segments;
    }
    if (!rest.startsWith('.')) {
      throw formatError(`${location}.key: invalid json path ${JSON.stringify(key)}`);
    }
    rest = rest.slice(1);
  }
}

function parseMatch(raw: unknown, location: string): MatchCondition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw formatError(`${location}.match: data did not match any variant of untagged enum Match`);
  }
  const record = raw as Record<string, unknown>;
  if ('value' in record) {
    const value = record.value;
    if (typeof value === 'string' || typeof value === 'boolean' || Number.isSafeInteger(value)) {
      return { kind: 'value', value: value as string | number | boolean };
    }
    throw formatError(`${location}.match: data did not match any variant of untagged enum ValueVariants`);
  }
  for (const kind of ['any', 'except'] as const) {
    if (kind in record) {
      const values = record[kind];
      const allStrings = Array.isArray(values) && values.every((value) => typeof value === 'string');
      const allIntegers = Array.isArray(values) && values.every((value) => Number.isSafeInteger(value));
      if (!allStrings && !allIntegers) {
        throw formatError(`${location}.match.${kind}: data did not match any variant of untagged enum AnyVariants`);
      }
      return { kind, values: values as Array<string | number> };
    }
  }
  throw new QdrantDoubleError(400, `Unsupported by the Qdrant double: match ${JSON.stringify(raw)} at ${location}`);
}

function matchesCondition(condition: ParsedCondition, payload: Record<string, unknown>): boolean {
  if (condition.kind === 'filter') {
    return matchesFilter(condition.filter, payload);
  }
  const values = readPath(payload, condition.path);
  const { match } = condition;
  switch (match.kind) {
    case 'value':
      return values.some((value) => value === match.value);
    case 'any':
      return values.some((value) => match.values.includes(value as string | number));
    case 'except':
      // A point without the field does not match `except`, as in Qdrant.
      return values.length > 0 && values.some((value) => !match.values.includes(value as string | number));
  }
}

/** Returns the values at `path`; an array is flattened so that any element can match. */
function readPath(payload: Record<string, unknown>, path: string[]): unknown[] {
  let current: unknown[] = [payload];
  for (const segment of path) {
    const next: unknown[] = [];
    for (const value of current) {
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && segment in value) {
        next.push((value as Record<string, unknown>)[segment]);
      }
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? value : [value]));
}
