import { jsonTypeOf } from '../zod.js';
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
  const fields = parseJsonObject(raw, where);
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
  return { versionId, value: parsed.data, fields };
}

/**
 * Parses a secret value that must be a JSON object; `where` names it in the error.
 * @throws {MalformedSecretError} without the parser's message, which quotes the text.
 */
export function parseJsonObject(raw: string, where: string): SecretFields {
  let fields: unknown;
  try {
    fields = JSON.parse(raw);
  } catch {
    throw new MalformedSecretError(`${where} is not valid JSON`);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new MalformedSecretError(`${where} is not a JSON object`);
  }
  return fields as SecretFields;
}

/**
 * Why an invocation input is not a JSON object, e.g. `the event is not a JSON object (got
 * string)`, or `undefined` when it is one. Names the type, never the value. A string is what
 * `serverless invoke local --data` passes on when its text is not JSON (single quotes inside,
 * truncated), so that case says so.
 */
export function notAJsonObject(noun: string, input: unknown): string | undefined {
  const type = jsonTypeOf(input);
  if (type === 'object') return undefined;
  const hint =
    type === 'string' ? ': text that is not valid JSON arrives as a string; check its quoting' : '';
  return `the ${noun} is not a JSON object (got ${type})${hint}`;
}
