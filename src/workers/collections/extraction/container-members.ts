import { AppError, InvalidInputError } from 'src/common/app-error';
import { ContainerBudget, FATAL_CONTAINER_ERROR_CODES } from 'src/workers/collections/extraction/container-limits';
import { ExtractionDeadline } from 'src/workers/collections/extraction/extraction-deadline';
import { ExtractedChild, ExtractedDocument, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';

/** Limits, deadline and callbacks that a container extractor uses to unpack and extract its members. */
export interface ContainerContext {
  /** Name of the container being extracted, a full member path when it is nested. */
  fileName: string;
  /** Nesting depth of this container: 0 for the uploaded file. */
  depth: number;
  budget: ContainerBudget;
  deadline: ExtractionDeadline;
  /** Detects the member's content type from its bytes and name, and extracts it one level deeper. */
  extractMember(data: Buffer, memberPath: string): Promise<ExtractedDocument>;
  /**
   * Runs the extractor of `contentType` on `data` one level deeper, for a wrapper such as
   * gzip whose payload stands for the file itself. Throws `unsupported_content_type` for a
   * type without an extractor.
   */
  extractAs(data: Buffer, contentType: string, innerFileName: string): Promise<ExtractorResult>;
}

/** One member read from a container: its bytes, or why it could not be read. */
export type ContainerMember =
  | { path: string; data: Buffer }
  | { path: string; error: { code: string; message: string } };

/**
 * Extracts each member on its own and returns the children flat: a member that is itself a
 * container is followed by its own children, their paths prefixed with the member path.
 * A member that fails becomes a child with `error`, except for limit violations and the
 * timeout (`FATAL_CONTAINER_ERROR_CODES`), which fail the whole container, and application
 * errors other than invalid input (such as an unavailable service), which the job retries.
 */
export async function extractMembers(
  members: AsyncIterable<ContainerMember> | Iterable<ContainerMember>,
  context: ContainerContext,
): Promise<ExtractedChild[]> {
  const children: ExtractedChild[] = [];
  const usedPaths = new Set<string>();

  for await (const member of members) {
    const path = uniquePath(member.path, usedPaths);
    if ('error' in member) {
      children.push({ path, error: member.error });
      continue;
    }

    context.deadline.throwIfExpired();
    try {
      const { children: nested, ...document } = await context.extractMember(member.data, path);
      children.push({ path, document });
      for (const child of nested ?? []) {
        children.push({ ...child, path: `${path}/${child.path}` });
      }
    } catch (error) {
      children.push({ path, error: memberError(error, path, context.fileName) });
    }
  }
  return children;
}

/**
 * Turns an entry name into a relative path that cannot leave the container: backslashes
 * become slashes, and drive letters, empty, `.` and `..` segments and control characters
 * are dropped. Returns an empty string when nothing is left.
 */
export function normalizeMemberPath(name: string): string {
  const segments = name
    .replace(/[\u0000-\u001F\u007F]/g, '')
    .replace(/\\/g, '/')
    .replace(/^[A-Za-z]:/, '')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..');
  return segments.join('/');
}

/**
 * Turns a member's failure into its child error, or rethrows it when it must fail the whole
 * container. An unexpected exception from an extractor, such as a parser bug triggered by one
 * odd file, is recorded as `extraction_failed` so that the other members are still indexed.
 */
function memberError(error: unknown, path: string, fileName: string): { code: string; message: string } {
  if (error instanceof InvalidInputError) {
    if (FATAL_CONTAINER_ERROR_CODES.has(error.code)) {
      throw error;
    }
    return { code: error.code, message: error.message };
  }
  if (error instanceof AppError || !(error instanceof Error)) {
    throw error;
  }
  return {
    code: 'extraction_failed',
    message: `Extracting "${path}" from "${fileName}" failed unexpectedly (${error.message}). Upload the file on its own to retry it.`,
  };
}

// Archives may repeat an entry name and emails often repeat attachment names, but each
// child needs a distinct path.
function uniquePath(path: string, usedPaths: Set<string>): string {
  let candidate = path;
  for (let copy = 2; usedPaths.has(candidate); copy += 1) {
    candidate = `${path} (${copy})`;
  }
  usedPaths.add(candidate);
  return candidate;
}
