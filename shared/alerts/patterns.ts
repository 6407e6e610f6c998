/**
 * The EventBridge patterns of the `rotationEvents` rules, in one place: `serverless.yml` reads
 * the same file (`${file(./shared/alerts/event-patterns.json):…}`), and the tests match the
 * documented events against it.
 */
import patterns from './event-patterns.json' with { type: 'json' };

/** An EventBridge event pattern. */
export type EventPattern = Readonly<Record<string, unknown>>;

/** Secrets Manager's rotation outcomes (CloudTrail service events). */
export const ROTATION_OUTCOME_PATTERN: EventPattern = patterns.rotationOutcomes;

/** Secrets Manager calls refused with AccessDenied (CloudTrail API-call events). */
export const ACCESS_DENIED_PATTERN: EventPattern = patterns.accessDenied;
