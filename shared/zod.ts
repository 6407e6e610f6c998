/**
 * zod for `shared/`: the tree-shakable functional API (`zod/mini`) with zod's English
 * messages. `zod/mini` sets no locale, so every default message would read "Invalid input";
 * only `en` is loaded here (`z.locales` would bring every language into the bundle).
 * Import it as `import * as z from '../zod.js'`.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

export * from 'zod/mini';

/**
 * The JSON type of a value, for messages: `string`, `number`, `boolean`, `array`, `null`,
 * `object`, or `nothing` when absent. Never the value itself.
 */
export function jsonTypeOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * The error of a field whose type is wrong: "is required" when absent, otherwise
 * "must be a <expected> (got <type>)". Never echoes the value.
 */
export const fieldTypeError =
  (expected: string) =>
  (issue: { readonly input?: unknown }): string =>
    issue.input === undefined ? 'is required' : `must be a ${expected} (got ${jsonTypeOf(issue.input)})`;

/** A required string field: "is required" when absent, "must be a string (got number)" otherwise. */
export const requiredString = () => z.string({ error: fieldTypeError('string') });
