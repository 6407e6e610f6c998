/**
 * A work item: what the enforcer asks to be done for one secret, as it goes through the queue
 * (one SQS message) or is done in the enforcer's own run. It carries intent, not settings:
 * whoever carries it out reads the secret again and decides the rotation function, the rules
 * and whether it is still due from that fresh state and its own configuration.
 */
import * as z from '../zod.js';
import { InvalidWorkItemError } from './errors.js';

/** The layout version of work items. */
export const WORK_ITEM_VERSION = 1;

/** The run that planned an item. */
export interface RunReference {
  readonly id: string;
  /** When the run planned it (ISO 8601): a rotation recorded after this is newer than the plan. */
  readonly at: string;
  readonly ignoreWindows: boolean;
}

/** The changes planned for one secret. */
export interface WorkItem {
  readonly v: typeof WORK_ITEM_VERSION;
  readonly run: RunReference;
  readonly secret: { readonly arn: string; readonly name: string };
  /** Clear its stuck rotation. */
  readonly repair?: true;
  /** Revoke the keys of these superseded versions. */
  readonly revoke?: readonly string[];
  /** Correct its rotation settings (function and rules). */
  readonly configure?: true;
  /** Start its rotation with this token (the new version's id). */
  readonly start?: { readonly token: string };
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]{1,512}$/;

const schema = z.strictObject({
  v: z.literal(WORK_ITEM_VERSION),
  run: z.strictObject({
    id: z.string().check(z.regex(/^[\w-]{1,64}$/)),
    at: z.iso.datetime(),
    ignoreWindows: z.boolean(),
  }),
  secret: z.strictObject({
    arn: z.string().check(z.regex(SECRET_ARN)),
    name: z.string().check(z.minLength(1), z.maxLength(512)),
  }),
  repair: z.optional(z.literal(true)),
  revoke: z.optional(
    z.array(z.string().check(z.minLength(1), z.maxLength(64))).check(z.minLength(1), z.maxLength(100)),
  ),
  configure: z.optional(z.literal(true)),
  start: z.optional(z.strictObject({ token: z.string().check(z.regex(/^[A-Za-z0-9-]{32,64}$/)) })),
});

/**
 * Reads a queue message's body as a work item.
 * @throws {InvalidWorkItemError} naming what is wrong (never echoing the body).
 */
export function parseWorkItem(body: string): WorkItem {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new InvalidWorkItemError('the message is not JSON: it is not a work item of enforceRotationPolicy');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new InvalidWorkItemError(
      `the message is not a work item of enforceRotationPolicy: ${parsed.error.issues
        .map((issue) => `${issue.path.join('.') || 'message'}: ${issue.message}`)
        .join('; ')}`,
    );
  const item = parsed.data as WorkItem;
  if (!item.repair && !item.revoke && !item.configure && !item.start)
    throw new InvalidWorkItemError('the work item asks for nothing (no repair, revoke, configure or start)');
  return item;
}

/** The actions an item asks for, in the order they are carried out. */
export function actionsOf(item: WorkItem): string[] {
  return [
    ...(item.repair ? ['repair'] : []),
    ...(item.revoke ? ['revoke'] : []),
    ...(item.configure ? ['configure'] : []),
    ...(item.start ? ['start'] : []),
  ];
}
