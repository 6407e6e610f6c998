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

/** A required string field: "is required" when absent, "must be a string" otherwise. Never echoes the value. */
export const requiredString = () =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });
