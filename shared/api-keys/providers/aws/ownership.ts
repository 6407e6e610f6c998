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
import { KEY_TAG_PREFIX, type KeyTags } from './tags.js';

/**
 * What one access key of the IAM user is to this rotation, and so whether it may be deleted.
 * Ownership is the user's tag `rotation-key:<key id>`: a key is this secret's only when that
 * tag carries this secret's digest (written when a rotation created the key, or proved the
 * secret's pair by signing in with it).
 * - `current`, `previous`: held by a version that must stay valid (AWSCURRENT, AWSPREVIOUS in
 *   its grace period): never touched;
 * - `superseded`: held by a version superseded for longer than the grace period, and tagged as
 *   this secret's: deletable;
 * - `orphan`: tagged as created by this rotation, held by no version, and older than the step
 *   timeout (no attempt can still be storing it): deletable;
 * - `in-flight`: tagged as created by this rotation, or untagged and never used, and younger
 *   than the step timeout: another attempt may still be storing (or tagging) it, so it is
 *   waited for;
 * - `foreign`: anything else (another application's key, another secret's, one made by hand,
 *   one an attempt created and could not tag): never touched;
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
 * Judges every key of the user (see {@link KeyVerdict}) from the user's `rotation-key:` tags.
 * An untagged key young enough to be another attempt's is looked up with GetAccessKeyLastUsed;
 * every read the verdict depends on that fails, fails the call.
 */
export async function judgeKeys(
  iam: IAMClient,
  keys: readonly AccessKeyMetadata[],
  tags: KeyTags,
  owned: SecretKeys,
  context: ProviderContext,
): Promise<JudgedKey[]> {
  // When the rotation began: read at most once, and only to say why an untagged key is foreign.
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
    else verdict = await judgeOther(iam, key, id, tags, owned, rotationStart, context);
    judged.push({ key, id, verdict });
  }
  return judged;
}

/** The verdict on a key no version that must stay valid holds. */
async function judgeOther(
  iam: IAMClient,
  key: AccessKeyMetadata,
  id: string,
  tags: KeyTags,
  owned: SecretKeys,
  rotationStart: () => Promise<Date | undefined>,
  context: ProviderContext,
): Promise<KeyVerdict> {
  const { arn } = context.secret;
  const tag = `${KEY_TAG_PREFIX}${keyHint(id)}`;
  const created = key.CreateDate;
  const retryAfter = created ? new Date(created.getTime() + context.inFlightMs) : undefined;
  const young = retryAfter !== undefined && context.inFlightMs > 0 && context.now < retryAfter;
  if (owned.superseded.has(id)) {
    if (tags.isSecrets(id, arn)) return { kind: 'superseded' };
    const unproven =
      tags.value(id) !== undefined
        ? `it is tagged ${tag} as another secret's key`
        : key.Status === 'Active'
          ? `it has no tag ${tag}, and the version's secret access key does not sign in with it`
          : `it has no tag ${tag} (deactivated before this release tagged keys), and an inactive key cannot sign in to prove it`;
    return {
      kind: 'foreign',
      why: `a superseded version of this secret names it, but ${unproven}; a key id alone proves nothing`,
    };
  }
  if (tags.isCreatedBy(id, arn, context.token)) {
    if (young && retryAfter) return { kind: 'in-flight', retryAfter };
    // The tag alone is not proof (whoever may tag the user can write it): IAM's own record
    // must agree that the key is a fresh, never-used key of this rotation.
    const lastUsed = await lastUsedOf(iam, id);
    if (lastUsed === 'gone') return { kind: 'gone' };
    if (lastUsed) {
      return {
        kind: 'foreign',
        why: `tagged ${tag} as this rotation's key, but used (${lastUsed.toISOString()}): an orphan of this rotation is never used`,
      };
    }
    const start = await rotationStart();
    if (!created || !start || created.getTime() < Math.floor(start.getTime() / 1000) * 1000) {
      return {
        kind: 'foreign',
        why: `tagged ${tag} as this rotation's key, but ${created && start ? 'created before this rotation began' : 'its creation cannot be placed after this rotation began'}`,
      };
    }
    return { kind: 'orphan' };
  }
  if (tags.isSecrets(id, arn)) {
    return {
      kind: 'foreign',
      why:
        `tagged ${tag} as this secret's key of an earlier rotation, but held by no version this rotation keeps or lets go: ` +
        'check whether a version of this secret still holds it (aws secretsmanager list-secret-version-ids)',
    };
  }
  if (tags.value(id) !== undefined) {
    return { kind: 'foreign', why: `tagged ${tag} as another secret's key` };
  }
  if (young && retryAfter) {
    // Untagged and young: maybe another attempt's key, between CreateAccessKey and TagUser.
    const lastUsed = await lastUsedOf(iam, id);
    if (lastUsed === 'gone') return { kind: 'gone' };
    if (!lastUsed) return { kind: 'in-flight', retryAfter };
    return { kind: 'foreign', why: `no rotation tag, and used (${lastUsed.toISOString()})` };
  }
  const start = created ? await rotationStart() : undefined;
  if (created && start && created.getTime() < Math.floor(start.getTime() / 1000) * 1000) {
    return { kind: 'foreign', why: 'no rotation tag, and created before this rotation began' };
  }
  return {
    kind: 'foreign',
    why:
      `no rotation tag (${tag}): another principal's key, or one an attempt of this rotation created and could not tag ` +
      "(it stopped between CreateAccessKey and TagUser: a log line 'aws: access key created' with this hint and no " +
      "'aws: access key tagged' after it says so)",
  };
}

/** When IAM last saw access key `id` used; undefined when never; `gone` when IAM has no such key. */
async function lastUsedOf(iam: IAMClient, id: string): Promise<Date | undefined | 'gone'> {
  try {
    const out = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }));
    return out.AccessKeyLastUsed?.LastUsedDate;
  } catch (error) {
    if (codeOf(error) === 'NoSuchEntity') return 'gone';
    throw toProviderError(`find out whether access key ${keyHint(id)} was ever used`, error);
  }
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
        return `${created}, an orphan of this rotation`;
      case 'in-flight':
        return `${created}, younger than ROTATION_STEP_TIMEOUT_SECONDS: another attempt of this step may still be storing it`;
      case 'foreign':
        return `${created}, not provably this secret's: ${verdict.why}`;
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
      `IAM user ${userName} already has two access keys, and ${hint} is not provably this secret's to delete: ${listing}. ` +
        `${untouched} A rotation deletes only keys tagged as this secret's (IAM user tag ${KEY_TAG_PREFIX}<key id>). Decide whether ${hint} is still needed ` +
        `(\`aws iam list-access-keys --user-name ${userName}\` shows its id, \`aws iam get-access-key-last-used --access-key-id <id>\` its last use): ` +
        `if nothing uses it, delete it (\`aws iam delete-access-key --user-name ${userName} --access-key-id <id>\`, then ` +
        `\`aws iam untag-user --user-name ${userName} --tag-keys ${KEY_TAG_PREFIX}<id>\` if it has that tag); ` +
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
        "by then no attempt can still be storing it, and the step deletes it if it is tagged as this rotation's orphan " +
        "(an untagged key is then named as not provably this secret's, for a person to decide)",
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
