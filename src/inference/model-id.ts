/**
 * Hugging Face repository ids: `org/name` or `name`. As on the hub, each part is 1-96 letters,
 * digits, `_`, `.` and `-`, starts and ends with a letter or digit, and has no `--` or `..`.
 * So no id escapes HF_HOME as a path, and no two ids share one cache folder (`models--org--name`).
 */
const SEGMENT = '[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9])?';
export const MODEL_ID_PATTERN = new RegExp(`^(?!.*(?:--|\\.\\.))${SEGMENT}(?:/${SEGMENT})?$`);
