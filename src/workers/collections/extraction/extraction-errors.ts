import { InvalidInputError } from 'src/common/app-error';

export function textTooLargeError(fileName: string, maxTextChars: number): InvalidInputError {
  return new InvalidInputError(
    'text_too_large',
    `Text extracted from "${fileName}" exceeds the limit of ${maxTextChars} characters. Split the file into smaller documents.`,
    { file_name: fileName, max_text_chars: maxTextChars },
  );
}
