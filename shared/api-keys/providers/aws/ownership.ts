import { type AccessKeyMetadata, GetAccessKeyLastUsedCommand, type IAMClient } from '@aws-sdk/client-iam';
import { keyHint } from '../../http.js';
import type { ProviderContext } from '../../provider.js';
import {
  AccessKeyInFlightError,
  AccessKeyLimitError,
  codeOf,
  ForeignAccessKeyError,
  toProviderError,
} from './errors.js';

/**
 * What one access key of the IAM user is to this rotation, and so whether it may be deleted:
 * - `current`, `previous`: held by a version that must stay valid (AWSCURRENT, AWSPREVIOUS in
 *   its grace period): never touched;
 * - `superseded`: held by a version of this secret superseded for longer than the grace period:
 *   deletable;
 * - `orphan`: created by this rotation and never stored, on IAM's own evidence (created after
 *   the rotation began, never used, and older than the step timeout, so no attempt can still
 *   be storing it): deletable;
 * - `in-flight`: never used and younger than the step timeout: another attempt may still be
 *   storing it, so it is waited for;
 * - `foreign`: anything else (another application's key, another secret's): never touched;
 * - `gone`: deleted since it was listed.
 */
export type KeyVerdict =
  | { readonly kind: 'current' | 'previous' | 'superseded' | 'orphan' | 'gone' }
  | { readonly kind: 'in-flight'; readonly retryAfter: Date }
  | { readonly kind: 'foreign'; readonly why: string };

/** One access key of the user, with its {@link KeyVerdict}. */
export interface JudgedKey {
  readonly key: AccessKeyMetadata;
  readonly id: string;
  readonly verdict: KeyVerdict;
}

/** The key ids the secret's versions hold, as the strategy told the provider. */
export interface SecretKeys {
  /** AWSCURRENT's key id. */
  readonly current: string;
  /** Key ids of versions that must stay valid (AWSCURRENT's, AWSPREVIOUS's in its grace period). */
  readonly kept: ReadonlySet<string>;
  /** Key ids of versions superseded for longer than the grace period. */
  readonly superseded: ReadonlySet<string>;
}

/** Whether a verdict lets `issue` delete the key to make room. */
export const isDeletable = (verdict: KeyVerdict): boolean =>
  verdict.kind === 'superseded' || verdict.kind === 'orphan';

/**
 * Judges every key of the user (see {@link KeyVerdict}). A key no version names is looked up
 * with GetAccessKeyLastUsed only when its creation date does not already rule it out; every
 * read the verdict depends on that fails, fails the call.
 */
export async function judgeKeys(
  iam: IAMClient,
  keys: readonly AccessKeyMetadata[],
  owned: SecretKeys,
  context: ProviderContext,
): Promise<JudgedKey[]> {
  // When the rotation began: read at most once, and only when a key's verdict depends on it.
  let started: Promise<Date | undefined> | undefined;
  const rotationStart = () => {
    started ??= context.rotationStartedAt();
    return started;
  };
  const judged: JudgedKey[] = [];
  for (const key of keys) {
    const id = key.AccessKeyId ?? '';
    let verdict: KeyVerdict;
    if (id === owned.current) verdict = { kind: 'current' };
    else if (owned.kept.has(id)) verdict = { kind: 'previous' };
    else if (owned.superseded.has(id)) verdict = { kind: 'superseded' };
    else verdict = await judgeUnnamed(iam, key, id, rotationStart, context);
    judged.push({ key, id, verdict });
  }
  return judged;
}

/**
 * The verdict on a key no version of this secret names. A key younger than the step timeout
 * that was never used may be another attempt's, about to be stored (whatever the dates say:
 * the version's date may move when that attempt stores it), so it is only ever waited for.
 * An older one is this rotation's orphan only if it was created after the rotation began and
 * never used.
 */
async function judgeUnnamed(
  iam: IAMClient,
  key: AccessKeyMetadata,
  id: string,
  rotationStart: () => Promise<Date | undefined>,
  context: ProviderContext,
): Promise<KeyVerdict> {
  const created = key.CreateDate;
  if (!created) return { kind: 'foreign', why: 'IAM lists no creation date for it' };
  const retryAfter = new Date(created.getTime() + context.inFlightMs);
  const young = context.inFlightMs > 0 && context.now < retryAfter;
  if (!young) {
    const start = await rotationStart();
    if (!start) {
      return {
        kind: 'foreign',
        why: "Secrets Manager gives no creation date for this rotation's version, so no key can be proven to be this rotation's",
      };
    }
    // IAM dates have whole seconds: a key created in the second the rotation began may be its own.
    if (created.getTime() < Math.floor(start.getTime() / 1000) * 1000) {
      return { kind: 'foreign', why: 'created before this rotation began' };
    }
  }
  let lastUsed: Date | undefined;
  try {
    const out = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }));
    lastUsed = out.AccessKeyLastUsed?.LastUsedDate;
  } catch (error) {
    if (codeOf(error) === 'NoSuchEntity') return { kind: 'gone' };
    throw toProviderError(`find out whether access key ${keyHint(id)} was ever used`, error);
  }
  if (lastUsed) {
    return {
      kind: 'foreign',
      why: `used (${lastUsed.toISOString()}), so not an orphan of this rotation`,
    };
  }
  return young ? { kind: 'in-flight', retryAfter } : { kind: 'orphan' };
}

/** `…abcd (Active, what it is)`: how a key appears in messages. Never the whole id. */
export function describeKey({ key, id, verdict }: JudgedKey): string {
  const created = key.CreateDate ? `created ${key.CreateDate.toISOString()}` : 'no creation date';
  const what = (() => {
    switch (verdict.kind) {
      case 'current':
        return "this secret's current key";
      case 'previous':
        return "this secret's previous key, in its grace period";
      case 'superseded':
        return "this secret's superseded key, past its grace period";
      case 'orphan':
        return `${created}, never used: an orphan of this rotation`;
      case 'in-flight':
        return `${created}, never used, younger than ROTATION_STEP_TIMEOUT_SECONDS: another attempt of this step may still be storing it`;
      case 'foreign':
        return `${created}, held by no version of this secret: ${verdict.why}`;
      case 'gone':
        return 'deleted meanwhile';
    }
  })();
  return `${keyHint(id)} (${key.Status ?? 'status unknown'}, ${what})`;
}

/**
 * The error for a user whose two keys leave no room and may not be deleted: it lists what is
 * really there (each key's hint, status and whose it is) and what to do about the key in the
 * way. A foreign key wins over an in-flight one, which wins over a previous key in its grace period.
 */
export function noRoomError(
  userName: string,
  keys: readonly JudgedKey[],
  context: ProviderContext,
): AccessKeyLimitError {
  const listing = keys.map(describeKey).join(' and ');
  const untouched = 'Nothing was deleted or created.';
  const foreign = keys.find((key) => key.verdict.kind === 'foreign');
  if (foreign) {
    const hint = keyHint(foreign.id);
    return new ForeignAccessKeyError(
      `IAM user ${userName} already has two access keys, and ${hint} is not this secret's to delete: ${listing}. ` +
        `${untouched} A rotation deletes only keys it can prove are this secret's. Decide whether ${hint} is still needed ` +
        `(\`aws iam list-access-keys --user-name ${userName}\` shows its id, \`aws iam get-access-key-last-used --access-key-id <id>\` its last use): ` +
        `if nothing uses it, delete it (\`aws iam delete-access-key --user-name ${userName} --access-key-id <id>\`); ` +
        'if something does, give this secret an IAM user of its own. Then rotate again',
    );
  }
  const inFlight = keys.find((key) => key.verdict.kind === 'in-flight');
  if (inFlight && inFlight.verdict.kind === 'in-flight') {
    const at = inFlight.verdict.retryAfter;
    return new AccessKeyInFlightError(
      `IAM user ${userName} already has two access keys, and ${keyHint(inFlight.id)} may be another attempt's: ${listing}. ` +
        `${untouched} Secrets Manager retries the step; if its retries run out first, run createSecret again with ` +
        `ClientRequestToken ${context.token} at or after ${at.toISOString()} (the key's creation plus ROTATION_STEP_TIMEOUT_SECONDS): ` +
        "by then no attempt can still be storing it, and the step deletes it as this rotation's orphan",
      at,
    );
  }
  const deactivated = keys.filter((key) => key.verdict.kind === 'previous' && key.key.Status === 'Inactive');
  return new AccessKeyLimitError(
    `IAM user ${userName} already has two access keys, both still needed: ${listing}. ${untouched} ` +
      'IAM allows two keys per user: wait until the grace period ends and rotate again, or shorten the grace period ' +
      '(ROTATION_GRACE_PERIOD_SECONDS)' +
      deactivated
        .map(
          (key) =>
            `. ${keyHint(key.id)} is already inactive (revoked early): if no rollback to it is needed, delete it by hand and rotate again`,
        )
        .join(''),
  );
}
