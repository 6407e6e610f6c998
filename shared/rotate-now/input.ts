import * as z from '../zod.js';
import { InvalidRotateNowInputError } from './errors.js';

/** What a person asks rotateNow for. */
export interface RotateNowRequest {
  /** A short name (`database/primary`, the environment prefix is added), a full name or an ARN. */
  readonly secret: string;
  /** Report how the rotation ended (new version id, `rotated_at`, or why it failed). */
  readonly wait: boolean;
  /** Clear a stuck rotation first, as the enforcer does. */
  readonly repair: boolean;
  /** Make AWSPREVIOUS current again, where the previous credential still works. Starts no rotation. */
  readonly rollback: boolean;
}

/** Secrets Manager's name characters; an ARN adds `:`. Anything else is refused without echoing it. */
const SECRET_ID = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;

const flag = () => z.optional(z.boolean({ error: 'must be true or false' }));

const schema = z.strictObject({
  secret: z.requiredString().check(
    z.trim(),
    z.minLength(1, 'is required'),
    z.refine((value) => SECRET_ID.test(value), {
      error: 'must be a secret name or ARN (letters, digits and /_+=.@:- only)',
    }),
  ),
  wait: flag(),
  repair: flag(),
  rollback: flag(),
});

/**
 * Validates rotateNow's input: `{"secret": "<name or ARN>", "wait"?, "repair"?, "rollback"?}`.
 * @throws {InvalidRotateNowInputError} naming each bad field (never echoing a value), when the
 * input is not a JSON object, has unknown fields, or combines rollback with wait or repair.
 */
export function parseRotateNowRequest(input: unknown): RotateNowRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    const what = input === null ? 'null' : Array.isArray(input) ? 'an array' : `a ${typeof input}`;
    throw new InvalidRotateNowInputError(
      `invalid rotateNow input: it must be a JSON object such as {"secret": "database/primary"}, not ${what} (check the quoting of --data)`,
    );
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')} (known: secret, wait, repair, rollback)`;
      }
      return `${issue.path.join('.') || 'input'} ${issue.message}`;
    });
    throw new InvalidRotateNowInputError(`invalid rotateNow input: ${problems.join('; ')}`);
  }
  const { secret, wait = false, repair = false, rollback = false } = parsed.data;
  if (rollback && (wait || repair)) {
    throw new InvalidRotateNowInputError(
      'invalid rotateNow input: rollback starts no rotation, so it cannot be combined with wait or repair',
    );
  }
  return { secret, wait, repair, rollback };
}
