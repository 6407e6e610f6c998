import * as z from '../zod.js';
import { type StepName, Steps } from './constants.js';
import { InvalidRotationEventError } from './errors.js';

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
  SecretId: z.string().check(z.trim(), z.minLength(1, 'is required'), z.maxLength(2048)),
  ClientRequestToken: z
    .string()
    .check(
      z.trim(),
      z.minLength(32, 'must be 32 to 64 characters'),
      z.maxLength(64, 'must be 32 to 64 characters'),
    ),
  Step: z.enum(Steps, { error: `must be one of ${Steps.join(', ')}` }),
  RotationToken: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
});

/**
 * Validates a rotation event.
 * @throws {InvalidRotationEventError} naming every missing or invalid field.
 */
export function parseRotationEvent(input: unknown): RotationEvent {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.join('.') || 'event';
    const message =
      issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
    return `${field} ${message}`;
  });
  throw new InvalidRotationEventError(`invalid rotation event: ${problems.join('; ')}`);
}
