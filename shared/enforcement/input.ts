import * as z from '../zod.js';
import { InvalidEnforcementInputError } from './errors.js';

/** What one run of the enforcer is asked to do. */
export interface EnforcementRequest {
  /** `schedule` for EventBridge's daily event, `manual` for a person's invocation. */
  readonly trigger: 'schedule' | 'manual';
  /** Report what it would do; change nothing (no write to Secrets Manager, no message, no alert). */
  readonly dryRun: boolean;
  /** Start overdue rotations even outside their rotation windows. */
  readonly ignoreWindows: boolean;
}

const flag = () => z.optional(z.boolean({ error: z.fieldTypeError('boolean') }));
const schema = z.strictObject({ dryRun: flag(), ignoreWindows: flag() });

/**
 * Reads the enforcer's input: nothing, `{}`, an EventBridge scheduled event (`source:
 * aws.events`, without `dryRun` or `ignoreWindows`), or `{"dryRun"?: boolean, "ignoreWindows"?: boolean}`.
 * @throws {InvalidEnforcementInputError} naming what is wrong (the input's type, an unknown
 * field, a field's type), never echoing a value.
 */
export function parseEnforcementRequest(event: unknown): EnforcementRequest {
  const defaults = { dryRun: false, ignoreWindows: false };
  if (event === undefined || event === null || event === '') return { trigger: 'manual', ...defaults };
  if (typeof event !== 'object' || Array.isArray(event))
    throw new InvalidEnforcementInputError(
      `invalid enforceRotationPolicy input: it must be a JSON object such as {"dryRun": true}, not ${z.jsonTypeOf(event)} (check the quoting of --data)`,
    );
  if ((event as { source?: unknown }).source === 'aws.events') {
    // A flag on the scheduled event (a sample edited by hand) is ambiguous: refused, so that a
    // real run never passes for a dry run.
    if ('dryRun' in event || 'ignoreWindows' in event)
      throw new InvalidEnforcementInputError(
        'invalid enforceRotationPolicy input: a scheduled event (source aws.events) takes no dryRun or ignoreWindows: send {"dryRun": true} alone',
      );
    return { trigger: 'schedule', ...defaults };
  }
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')} (known: dryRun, ignoreWindows)`
        : `${issue.path.join('.') || 'input'} ${issue.message}`,
    );
    throw new InvalidEnforcementInputError(`invalid enforceRotationPolicy input: ${problems.join('; ')}`);
  }
  return {
    trigger: 'manual',
    dryRun: parsed.data.dryRun ?? false,
    ignoreWindows: parsed.data.ignoreWindows ?? false,
  };
}
