/**
 * zod for `shared/`: the tree-shakable functional API (`zod/mini`) with zod's English
 * messages. `zod/mini` sets no locale, so every default message would read "Invalid input";
 * only `en` is loaded here (`z.locales` would bring every language into the bundle).
 * Import it as `import * as z from '../zod.js'`.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
