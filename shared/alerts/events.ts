import * as z from '../zod.js';

/** The rotation outcomes Secrets Manager records in CloudTrail, and what each is called here. */
export const RotationOutcomeEvents = {
  RotationStarted: 'started',
  RotationSucceeded: 'succeeded',
  RotationFailed: 'failed',
  RotationAbandoned: 'abandoned',
} as const;

/** One of the outcomes: `started`, `succeeded`, `failed`, `abandoned`. */
export type RotationOutcomeName = (typeof RotationOutcomeEvents)[keyof typeof RotationOutcomeEvents];

/** `errorCode`s of a refused call. */
export const ACCESS_DENIED_CODES: readonly string[] = ['AccessDenied', 'AccessDeniedException'];

const SERVICE_EVENT = 'AWS Service Event via CloudTrail';
const API_CALL = 'AWS API Call via CloudTrail';
const EVENT_SOURCE = 'secretsmanager.amazonaws.com';
/** The longest text copied from an event (error messages, user agents). */
const MAX_TEXT = 500;

/** An optional text field; CloudTrail writes some absent fields as null. */
const text = () => z.optional(z.nullable(z.string()));

/** The EventBridge envelope: only the fields this product reads. */
const envelopeSchema = z.object({
  id: text(),
  source: z.string(),
  'detail-type': z.string(),
  account: text(),
  region: text(),
  time: text(),
  detail: z.record(z.string(), z.unknown()),
});

/** A rotation service event's detail (the CloudTrail record). */
const rotationDetailSchema = z.object({
  eventName: z.enum(Object.keys(RotationOutcomeEvents) as [keyof typeof RotationOutcomeEvents]),
  eventSource: z.literal(EVENT_SOURCE),
  eventTime: text(),
  awsRegion: text(),
  eventID: text(),
  errorMessage: text(),
  additionalEventData: z.object({ SecretId: z.string().check(z.minLength(1)) }),
});

/** An API call's detail: the caller, and the few request fields that name a secret. */
const apiCallDetailSchema = z.object({
  eventName: z.string(),
  eventSource: z.literal(EVENT_SOURCE),
  eventTime: text(),
  awsRegion: text(),
  eventID: text(),
  errorCode: z.string(),
  errorMessage: text(),
  sourceIPAddress: text(),
  userAgent: text(),
  userIdentity: z.optional(
    z.object({
      type: text(),
      arn: text(),
      principalId: text(),
      accountId: text(),
      userName: text(),
      invokedBy: text(),
      sessionContext: z.optional(
        z.object({ sessionIssuer: z.optional(z.object({ arn: text(), userName: text() })) }),
      ),
    }),
  ),
  requestParameters: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
});

/** A rotation outcome, as logged and alerted. */
export interface RotationOutcomeEvent {
  readonly kind: 'rotation';
  readonly outcome: RotationOutcomeName;
  readonly secretArn: string;
  /** The secret's name, from its ARN (without the random suffix). */
  readonly secretName: string;
  readonly eventTime?: string;
  readonly region?: string;
  readonly account?: string;
  readonly eventId?: string;
  /** Secrets Manager's own message on failure (it names the function and the step). */
  readonly message?: string;
}

/** Who made a refused call. */
export interface Caller {
  readonly type?: string;
  readonly arn?: string;
  readonly principalId?: string;
  readonly accountId?: string;
  readonly userName?: string;
  /** The role an assumed-role session came from. */
  readonly sessionIssuer?: string;
  /** The AWS service that called on the principal's behalf. */
  readonly invokedBy?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/** An unauthorized Secrets Manager call, as logged and alerted: never a request value. */
export interface AccessDeniedEvent {
  readonly kind: 'access-denied';
  readonly eventName: string;
  readonly errorCode: string;
  readonly errorMessage?: string;
  /** The secrets the call named (`secretId`, `secretIdList`), if any. */
  readonly secrets: readonly string[];
  readonly caller: Caller;
  readonly eventTime?: string;
  readonly region?: string;
  readonly account?: string;
  readonly eventId?: string;
}

/** An event this handler does not act on, and why. */
export interface IgnoredEvent {
  readonly kind: 'ignored';
  readonly reason: string;
  /** What the event said it was, when it said (for the log). */
  readonly source?: string;
  readonly detailType?: string;
  readonly eventName?: string;
}

/** What an incoming event is. */
export type SecretsManagerEvent = RotationOutcomeEvent | AccessDeniedEvent | IgnoredEvent;

/**
 * Reads an EventBridge event (pure). Recognised: Secrets Manager's rotation outcomes
 * (`AWS Service Event via CloudTrail`, RotationStarted/Succeeded/Failed/Abandoned, the secret
 * ARN in `detail.additionalEventData.SecretId`) and Secrets Manager calls refused with
 * AccessDenied (`AWS API Call via CloudTrail`). Anything else, or a recognised event missing
 * a field, is `ignored` with the reason. Only named fields are copied, never
 * `requestParameters` as a whole (a PutSecretValue carries the secret value there): of it,
 * only the secret ids (`secretId`, `secretIdList`, a CreateSecret's `name`).
 */
export function classifyEvent(input: unknown): SecretsManagerEvent {
  const envelope = envelopeSchema.safeParse(input);
  if (!envelope.success) {
    return { kind: 'ignored', reason: `not an EventBridge event: ${issues(envelope.error)}` };
  }
  const { source, 'detail-type': detailType, detail, account, region, id } = envelope.data;
  const eventName = typeof detail.eventName === 'string' ? detail.eventName : undefined;
  const seen = { source, detailType, ...(eventName ? { eventName } : {}) };
  if (source !== 'aws.secretsmanager') {
    return { kind: 'ignored', reason: `source ${source} is not aws.secretsmanager`, ...seen };
  }
  const where = { ...(account ? { account } : {}) };
  if (detailType === SERVICE_EVENT) {
    if (!eventName || !(eventName in RotationOutcomeEvents)) {
      return {
        kind: 'ignored',
        reason: `service event ${eventName ?? '(unnamed)'} is not a rotation outcome`,
        ...seen,
      };
    }
    const parsed = rotationDetailSchema.safeParse(detail);
    if (!parsed.success)
      return { kind: 'ignored', reason: `malformed ${eventName} event: ${issues(parsed.error)}`, ...seen };
    const d = parsed.data;
    const secretArn = d.additionalEventData.SecretId;
    return {
      kind: 'rotation',
      outcome: RotationOutcomeEvents[d.eventName],
      secretArn,
      secretName: secretNameOf(secretArn),
      ...where,
      ...optional('region', d.awsRegion ?? region),
      ...optional('eventTime', d.eventTime),
      ...optional('eventId', d.eventID ?? id),
      ...optional('message', clip(d.errorMessage)),
    };
  }
  if (detailType === API_CALL) {
    const parsed = apiCallDetailSchema.safeParse(detail);
    if (!parsed.success)
      return { kind: 'ignored', reason: `malformed API call event: ${issues(parsed.error)}`, ...seen };
    const d = parsed.data;
    if (!ACCESS_DENIED_CODES.includes(d.errorCode)) {
      return { kind: 'ignored', reason: `errorCode ${d.errorCode} is not an access denial`, ...seen };
    }
    const who = d.userIdentity;
    const caller: Caller = {
      ...optional('type', who?.type),
      ...optional('arn', who?.arn),
      ...optional('principalId', who?.principalId),
      ...optional('accountId', who?.accountId),
      ...optional('userName', who?.userName),
      ...optional('sessionIssuer', who?.sessionContext?.sessionIssuer?.arn),
      ...optional('invokedBy', who?.invokedBy),
      ...optional('sourceIp', d.sourceIPAddress),
      ...optional('userAgent', clip(d.userAgent)),
    };
    return {
      kind: 'access-denied',
      eventName: d.eventName,
      errorCode: d.errorCode,
      ...optional('errorMessage', clip(d.errorMessage)),
      secrets: secretIdsOf(d.eventName, d.requestParameters),
      caller,
      ...where,
      ...optional('region', d.awsRegion ?? region),
      ...optional('eventTime', d.eventTime),
      ...optional('eventId', d.eventID ?? id),
    };
  }
  return { kind: 'ignored', reason: `detail-type ${detailType} is not handled`, ...seen };
}

/**
 * The secret ids a request named: `secretId` and `secretIdList`, and a CreateSecret's `name`
 * (the secret it would create); strings only.
 */
function secretIdsOf(eventName: string, parameters: Record<string, unknown> | null | undefined): string[] {
  if (!parameters) return [];
  const ids: string[] = [];
  for (const [key, value] of Object.entries(parameters)) {
    const name = key.toLowerCase();
    const namesSecret = name === 'secretid' || (eventName === 'CreateSecret' && name === 'name');
    if (namesSecret && typeof value === 'string') ids.push(clip(value) ?? '');
    if (name === 'secretidlist' && Array.isArray(value)) {
      ids.push(
        ...value.filter((item): item is string => typeof item === 'string').map((item) => clip(item) ?? ''),
      );
    }
  }
  return ids;
}

/** `production/database/primary` from `arn:…:secret:production/database/primary-AbCdEf`. */
export function secretNameOf(secretArn: string): string {
  const name = secretArn.split(':secret:')[1];
  return name ? name.replace(/-[A-Za-z0-9]{6}$/, '') : secretArn;
}

function optional<K extends string>(key: K, value: string | null | undefined): { [P in K]?: string } {
  return (value === undefined || value === null || value === '' ? {} : { [key]: value }) as {
    [P in K]?: string;
  };
}

function clip(value: string | null | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  const flat = value.replace(/[\r\n\t]+/g, ' ');
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}…` : flat;
}

function issues(error: z.core.$ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`).join('; ');
}
