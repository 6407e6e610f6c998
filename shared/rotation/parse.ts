import { MalformedSecretError } from './errors.js';
import type { RotationStrategy, SecretFields, SecretVersion } from './strategy.js';

/**
 * Parses one stored version of a secret: JSON, an object, then the strategy's schema.
 * @throws {MalformedSecretError} naming the version and each bad field, never a value
 * (not even the JSON parser's message, which quotes the text it failed on).
 */
export function parseSecretVersion<T>(
  strategy: Pick<RotationStrategy<T>, 'schema' | 'kind'>,
  secretName: string,
  versionId: string,
  label: string,
  raw: string,
): SecretVersion<T> {
  const where = `version ${versionId} (${label}) of secret ${secretName}`;
  let fields: unknown;
  try {
    fields = JSON.parse(raw);
  } catch {
    throw new MalformedSecretError(`${where} is not valid JSON`);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new MalformedSecretError(`${where} is not a JSON object`);
  }
  const parsed = strategy.schema.safeParse(fields);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(value)');
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`,
    );
    throw new MalformedSecretError(
      `${where} is not a valid ${strategy.kind} secret: ${problems.join('; ')}`,
      paths,
    );
  }
  return { versionId, value: parsed.data, fields: fields as SecretFields };
}
