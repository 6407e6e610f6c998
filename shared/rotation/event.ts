import * as z from '../zod.js';
import { type StepName, Steps } from './constants.js';
import { InvalidRotationEventError } from './errors.js';
import { notAJsonObject } from './parse.js';

/** The event Secrets Manager sends a rotation function for each step. */
export interface RotationEvent {
  /** ARN or name of the secret. */
  readonly SecretId: string;
  /** Version id of the pending secret; the same for the four steps of one rotation. */
  readonly ClientRequestToken: string;
  readonly Step: StepName;
  /** Sent by newer Secrets Manager; passed on to PutSecretValue. Sensitive: never logged. */
  readonly RotationToken?: string;
}

const schema = z.object({
  SecretId: z.requiredString().check(z.trim(), z.minLength(1, 'is required'), z.maxLength(2048)),
  ClientRequestToken: z
    .requiredString()
    .check(
      z.trim(),
      z.minLength(32, 'must be 32 to 64 characters'),
      z.maxLength(64, 'must be 32 to 64 characters'),
    ),
  Step: z.enum(Steps, {
    error: (issue) =>
      typeof issue.input === 'string'
        ? `must be one of ${Steps.join(', ')}`
        : z.fieldTypeError('string')(issue),
  }),
  RotationToken: z.optional(z.requiredString().check(z.minLength(1), z.maxLength(4096))),
});

/**
 * Validates a rotation event.
 * @throws {InvalidRotationEventError} when the event is not a JSON object (naming what it
 * is), or naming every missing field and every field of the wrong type; never a value.
 */
export function parseRotationEvent(input: unknown): RotationEvent {
  const notObject = notAJsonObject('event', input);
  if (notObject) throw new InvalidRotationEventError(`invalid rotation event: ${notObject}`);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // One problem per field: the first (a wrong type, then the checks zod still runs on it).
  const problems = new Map<string, string>();
  for (const issue of result.error.issues) {
    const field = issue.path.join('.') || 'event';
    if (!problems.has(field)) problems.set(field, `${field} ${issue.message}`);
  }
  throw new InvalidRotationEventError(`invalid rotation event: ${[...problems.values()].join('; ')}`);
}
