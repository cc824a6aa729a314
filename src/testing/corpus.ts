import path from 'node:path';

/**
 * Folder of the real-world test documents: `CORPUS_DIR` when set, else `shared/corpus` next to
 * the repository checkout. Jest's global setup stops the run early when it is missing.
 */
export const CORPUS_DIR = process.env.CORPUS_DIR
  ? path.resolve(process.env.CORPUS_DIR)
  : path.resolve(__dirname, '../../../shared/corpus');
