import { type IAMClient, ListUserTagsCommand, TagUserCommand, UntagUserCommand } from '@aws-sdk/client-iam';
import { keyHint } from '../../http.js';
import { rotationDigest, secretDigest } from '../marker.js';
import { callIam } from './errors.js';

/**
 * Prefix of the IAM user tags that record whose an access key is: `rotation-key:<access key
 * id>`. IAM tag keys hold up to 128 of letters, digits, spaces and `_.:/=+-@`; an access key
 * id is upper-case letters and digits (20 characters in practice).
 */
export const KEY_TAG_PREFIX = 'rotation-key:';

/** Hex digits of each digest in a tag value. */
const DIGEST_LENGTH = 24;

/** How a key became this secret's: created by a rotation, or proven by signing in with the secret's pair. */
export type KeyOrigin = 'created' | 'proven';

const TAG_VALUE = /^secret=([0-9a-f]{24}) (created|proven)=([0-9a-f]{24})$/;

/** The tag key of access key `accessKeyId`: `rotation-key:<id>`. */
export function keyTagKey(accessKeyId: string): string {
  return `${KEY_TAG_PREFIX}${accessKeyId}`;
}

/**
 * The tag value that makes an access key the secret `secretArn`'s:
 * `secret=<digest of the ARN> created=<digest of the ARN and the token>` for a key the
 * rotation `token` created, `… proven=<…>` for a key the rotation proved by signing in with
 * the secret's pair. Digests are 24 hex digits of SHA-256 (`providers/marker.ts`).
 */
export function keyTagValue(secretArn: string, token: string, origin: KeyOrigin): string {
  return `secret=${secretDigest(secretArn, DIGEST_LENGTH)} ${origin}=${rotationDigest(secretArn, token, DIGEST_LENGTH)}`;
}

/** The IAM user's `rotation-key:` tags: what they say about whose each access key is. */
export class KeyTags {
  readonly #values: Map<string, string>;

  constructor(values: ReadonlyMap<string, string>) {
    this.#values = new Map(values);
  }

  /** The tag value of access key `id`, if the user has that tag. */
  value(id: string): string | undefined {
    return this.#values.get(id);
  }

  /** True when the tag of key `id` carries the digest of secret `secretArn`: the key is that secret's. */
  isSecrets(id: string, secretArn: string): boolean {
    const match = TAG_VALUE.exec(this.#values.get(id) ?? '');
    return match?.[1] === secretDigest(secretArn, DIGEST_LENGTH);
  }

  /** True when the tag of key `id` says the rotation `token` of secret `secretArn` created it. */
  isCreatedBy(id: string, secretArn: string, token: string): boolean {
    const expected = keyTagValue(secretArn, token, 'created');
    return this.#values.get(id) === expected;
  }

  /** The key ids the user has a tag for. */
  ids(): string[] {
    return [...this.#values.keys()];
  }

  /** Records a tag this call wrote, so later decisions in the same call see it. */
  set(id: string, value: string): void {
    this.#values.set(id, value);
  }
}

/** Every `rotation-key:` tag of IAM user `userName` (all pages of ListUserTags). */
export async function readKeyTags(iam: IAMClient, userName: string): Promise<KeyTags> {
  const values = new Map<string, string>();
  let marker: string | undefined;
  do {
    const page = await callIam(`list the tags of IAM user ${userName}`, () =>
      iam.send(new ListUserTagsCommand({ UserName: userName, Marker: marker })),
    );
    for (const tag of page.Tags ?? []) {
      if (tag.Key?.startsWith(KEY_TAG_PREFIX))
        values.set(tag.Key.slice(KEY_TAG_PREFIX.length), tag.Value ?? '');
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return new KeyTags(values);
}

/** Tags IAM user `userName` with `rotation-key:<id>` = `value` (overwriting that key's tag). */
export async function tagKey(iam: IAMClient, userName: string, id: string, value: string): Promise<void> {
  await callIam(`tag IAM user ${userName} with the owner of access key ${keyHint(id)}`, () =>
    iam.send(new TagUserCommand({ UserName: userName, Tags: [{ Key: keyTagKey(id), Value: value }] })),
  );
}

/** Removes the `rotation-key:` tags of the access keys `ids` from IAM user `userName`. */
export async function untagKeys(iam: IAMClient, userName: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await callIam(`remove the rotation tags of ${ids.map(keyHint).join(', ')} from IAM user ${userName}`, () =>
    iam.send(new UntagUserCommand({ UserName: userName, TagKeys: ids.map(keyTagKey) })),
  );
}
