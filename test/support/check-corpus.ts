import { existsSync } from 'node:fs';
// Global setup runs outside Jest's module mapping, so this import is relative.
import { CORPUS_DIR } from '../../src/testing/corpus';

/** Jest global setup: fails the run with one clear message instead of dozens of ENOENT errors. */
export default function checkCorpus(): void {
  if (!existsSync(`${CORPUS_DIR}/MANIFEST.md`)) {
    throw new Error(
      `test documents not found in ${CORPUS_DIR}: check out the repository next to the shared/ folder ` +
        'that holds corpus/, or set CORPUS_DIR to a folder with the corpus files',
    );
  }
}
