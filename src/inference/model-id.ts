/**
 * Hugging Face repository ids: `org/name` or `name`, letters, digits, `_`, `.` and `-`.
 * Segments of dots only are rejected because ids become paths under HF_HOME.
 */
export const MODEL_ID_PATTERN = /^(?!\.{1,2}(\/|$))[A-Za-z0-9_.-]{1,96}(\/(?!\.{1,2}$)[A-Za-z0-9_.-]{1,96})?$/;
