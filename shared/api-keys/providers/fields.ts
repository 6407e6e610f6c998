import * as z from '../../zod.js';

/**
 * Printable ASCII without spaces: what an HTTP header value, a URL or a form field carries
 * unchanged. A key read from a file by a templating tool can end in a newline; `fetch` then
 * refuses the header with a message that quotes it, so such a key is refused here, first.
 */
const HEADER_SAFE = /^[\x21-\x7e]*$/;

/** The message of {@link headerSafe}: the rule, never the value. */
export const HEADER_SAFE_RULE =
  'must be printable ASCII without spaces (no control characters such as CR, LF, NUL or TAB, and no non-ASCII characters)';

/** True when `value` holds only characters an HTTP header, a URL or a form field carries as they are. */
export function isHeaderSafe(value: string): boolean {
  return HEADER_SAFE.test(value);
}

/** The zod check of a key or secret field sent in a header, a URL or a form: {@link HEADER_SAFE_RULE}. */
export const headerSafe = () => z.regex(HEADER_SAFE, { error: HEADER_SAFE_RULE });
