import { StagedValueMissingError } from './errors.js';

/**
 * The staging label an operator puts on a version holding a new value for keys that no
 * API issues (Clerk's secret key, Google's reCAPTCHA secret). createSecret builds the
 * pending version from it; finishSecret removes the label.
 */
export const STAGED_LABEL = 'STAGED';

/**
 * The error for a rotation that needs a staged value and has none: it says exactly what
 * to run. The value goes through a file, so it never passes through a shell history, an
 * invocation payload or a log.
 */
export function stagedValueMissing(secretName: string, fields: readonly string[]): StagedValueMissingError {
  const example = `{${fields.map((field) => `"${field}": "<new value>"`).join(', ')}}`;
  return new StagedValueMissingError(
    `secret ${secretName} has no staged value for ${fields.join(', ')}: no API issues ${fields.length > 1 ? 'these keys' : 'this key'}. ` +
      `Write ${example} to a file (e.g. new-key.json, mode 600), then run ` +
      `\`aws secretsmanager put-secret-value --secret-id ${secretName} --secret-string file://new-key.json --version-stages ${STAGED_LABEL}\` ` +
      `and start the rotation again (\`aws secretsmanager rotate-secret --secret-id ${secretName}\`)`,
  );
}
