/**
 * The `aws` provider end to end on a PRIVATE moto server with request authentication on:
 * moto then accepts only access keys that exist in its IAM, checks SigV4 signatures and
 * evaluates the caller's IAM policies. Authentication is switched on per server with
 * `POST /moto-api/reset-auth` (body: how many requests to let through first, `0`), so this
 * file never shares its moto with other tests.
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  PutUserPolicyCommand,
  TagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KeyTestFailedError,
  ProviderAuthError,
  ProviderError,
  ProviderRateLimitError,
  ProviderUnavailableError,
} from '../../../shared/api-keys/errors.js';
import { keyHint } from '../../../shared/api-keys/http.js';
import type { ApiKeyProvider, IssueInput, ProviderContext } from '../../../shared/api-keys/provider.js';
import {
  AccessKeyInFlightError,
  AccessKeyLimitError,
  AccessKeyNotProvenError,
  type AwsKeySecret,
  awsKeySecretSchema,
  createAwsProvider,
  ForeignAccessKeyError,
  isSecretsAccessKey,
  KEY_TAG_PREFIX,
  keyTagKey,
  keyTagValue,
} from '../../../shared/api-keys/providers/aws/index.js';
import { findLeaks, uniqueName } from '../../support/bed.js';
import type { RecordingLogger } from '../../support/fakes.js';
import { startMoto } from '../../support/local-stack.js';
import { providerContext, secretArn } from '../../support/provider-tests.js';

const REGION = 'us-east-1';
const SECRET_NAME = 'production/api-keys/aws';
const FAST = { attempts: 2, delayMs: 10 } as const;

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

let moto: { endpoint: string; stop(): Promise<void> };
/** The admin principal's client: sets up users and keys, and checks what the provider did. */
let admin: IAMClient;
let adminCredentials: Credentials;

/** Every secret access key this file saw, for the leak scan. */
const secrets: string[] = [];
/** Every logger handed to the provider, and every error message it threw. */
const loggers: RecordingLogger[] = [];
const errorTexts: string[] = [];

const iamClient = (credentials: Credentials, endpoint = moto.endpoint) =>
  new IAMClient({ region: REGION, endpoint, credentials });

const stsFor = (credentials: Credentials) =>
  new STSClient({ region: REGION, endpoint: moto.endpoint, credentials });

const provider = (options: { iam?: IAMClient } = {}) =>
  createAwsProvider({ iam: options.iam ?? admin, stsFor, propagation: FAST });

const TOKEN = '6f1a1c52-0c4e-4b8a-9d38-6f3f1d2b7c11';
/** The ARN of the secret every context names: keys tagged with its digest are this secret's. */
const ARN = secretArn(SECRET_NAME, REGION);

/**
 * A context for one provider call, with a logger of its own that the leak scan reads. The
 * rotation began an hour ago unless `rotationStartedAt` says otherwise (`null`: unknown).
 */
function context(
  options: { rotationStartedAt?: Date | null; now?: Date; inFlightMs?: number } = {},
): ProviderContext & { logger: RecordingLogger } {
  const { rotationStartedAt = new Date(Date.now() - 3_600_000), ...rest } = options;
  // No secrets to read: the aws provider reads none.
  const ctx = providerContext({
    secretName: SECRET_NAME,
    region: REGION,
    token: TOKEN,
    ...(rotationStartedAt ? { rotationStartedAt } : {}),
    ...rest,
  });
  loggers.push(ctx.logger);
  return ctx;
}

/**
 * The input of an issue for `current`, with the versions to `keep` (`current` alone unless
 * given) and the `superseded` ones past their grace period (none unless given).
 */
function issueInput(
  current: AwsKeySecret,
  keep: AwsKeySecret[] = [current],
  ctx: ProviderContext = context(),
  superseded: AwsKeySecret[] = [],
): IssueInput<AwsKeySecret> {
  return { current, staged: undefined, keep, superseded, context: ctx };
}

/** Issues a key for `current` (keeping only it) and remembers its secret for the leak scan. */
async function issueKey(
  current: AwsKeySecret,
  options: { aws?: ApiKeyProvider<AwsKeySecret>; context?: ProviderContext } = {},
): Promise<AwsKeySecret> {
  const aws = options.aws ?? provider();
  return remember(await aws.issue(issueInput(current, [current], options.context)));
}

/** The rejection of `promise`, recorded for the leak scan. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    const err = error as Error;
    errorTexts.push(err.message, err.stack ?? '', JSON.stringify(err), String(err.cause ?? ''));
    return err;
  }
  throw new Error('expected a rejection');
}

async function createUser(prefix: string, policy?: object): Promise<string> {
  const userName = uniqueName(prefix);
  await admin.send(new CreateUserCommand({ UserName: userName }));
  if (policy) {
    await admin.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'inline',
        PolicyDocument: JSON.stringify(policy),
      }),
    );
  }
  return userName;
}

async function createKey(userName: string, client = admin): Promise<AwsKeySecret> {
  const out = await client.send(new CreateAccessKeyCommand({ UserName: userName }));
  const id = out.AccessKey?.AccessKeyId ?? '';
  const secret = out.AccessKey?.SecretAccessKey ?? '';
  secrets.push(secret);
  return { access_key_id: id, secret_access_key: secret, rotated_at: '2026-01-01T00:00:00Z' };
}

/** Key id → status, as IAM lists them. */
async function keysOf(userName: string): Promise<Record<string, string>> {
  const out = await admin.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((key) => [key.AccessKeyId, key.Status]));
}

/** Key id → `Active` for each of `keys`: what {@link keysOf} lists when they are all active. */
function allActive(...keys: AwsKeySecret[]): Record<string, string> {
  return Object.fromEntries(keys.map((key) => [key.access_key_id, 'Active']));
}

/** The hint of a key, as messages and log lines name it. */
const hint = (key: AwsKeySecret) => keyHint(key.access_key_id);

/** `text` with the characters special in a regular expression escaped. */
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Signs a request with `key`, so that IAM records it as used (as an application's key is). */
async function signInWith(key: AwsKeySecret): Promise<void> {
  const sts = stsFor({ accessKeyId: key.access_key_id, secretAccessKey: key.secret_access_key });
  await sts.send(new GetCallerIdentityCommand({}));
  sts.destroy();
}

/** The IAM client of a rotator that may manage keys but not call the action `deny` (e.g. `iam:TagUser`). */
async function rotatorWith(options: { deny: string }): Promise<IAMClient> {
  const rotatorName = await createUser('rotator', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iam:*', Resource: '*' },
      { Effect: 'Deny', Action: options.deny, Resource: '*' },
    ],
  });
  const rotatorKey = await createKey(rotatorName);
  return iamClient({ accessKeyId: rotatorKey.access_key_id, secretAccessKey: rotatorKey.secret_access_key });
}

/** The user's `rotation-key:` tags, key → value. */
async function tagsOf(userName: string): Promise<Record<string, string>> {
  const out = await admin.send(new ListUserTagsCommand({ UserName: userName }));
  return Object.fromEntries(
    (out.Tags ?? []).filter((t) => t.Key?.startsWith(KEY_TAG_PREFIX)).map((t) => [t.Key, t.Value]),
  );
}

/** Tags the user with `rotation-key:<key id>` = `value`, as a rotation would. */
async function tag(userName: string, key: AwsKeySecret, value: string): Promise<void> {
  await admin.send(
    new TagUserCommand({ UserName: userName, Tags: [{ Key: keyTagKey(key.access_key_id), Value: value }] }),
  );
}

async function setStatus(userName: string, key: AwsKeySecret, status: 'Active' | 'Inactive'): Promise<void> {
  await admin.send(
    new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: key.access_key_id, Status: status }),
  );
}

/** A user with its first (current) key. */
async function userWithKey(): Promise<{ userName: string; current: AwsKeySecret }> {
  const userName = await createUser('app');
  return { userName, current: await createKey(userName) };
}

function remember(fields: Record<string, unknown>): AwsKeySecret {
  const parsed = awsKeySecretSchema.parse(fields);
  secrets.push(parsed.secret_access_key);
  return parsed;
}

const ADMIN_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

beforeAll(async () => {
  moto = await startMoto();
  // Authentication is still off: any credentials do to create the admin principal.
  const bootstrap = iamClient({ accessKeyId: 'bootstrap', secretAccessKey: 'bootstrap' });
  await bootstrap.send(new CreateUserCommand({ UserName: 'rotation-admin' }));
  await bootstrap.send(
    new PutUserPolicyCommand({
      UserName: 'rotation-admin',
      PolicyName: 'AdministratorAccess',
      PolicyDocument: JSON.stringify(ADMIN_POLICY),
    }),
  );
  const key = await bootstrap.send(new CreateAccessKeyCommand({ UserName: 'rotation-admin' }));
  adminCredentials = {
    accessKeyId: key.AccessKey?.AccessKeyId ?? '',
    secretAccessKey: key.AccessKey?.SecretAccessKey ?? '',
  };
  secrets.push(adminCredentials.secretAccessKey);
  bootstrap.destroy();
  // From now on moto authenticates every request: `0` unauthenticated requests left.
  const response = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ status: 'ok' });
  admin = iamClient(adminCredentials);
});

afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
});

describe('moto with authentication on', () => {
  it('refuses a key it does not know and accepts the admin key', async () => {
    const stranger = iamClient({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'not-a-moto-key' });
    await expect(stranger.send(new ListUsersCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
    stranger.destroy();
    const forger = iamClient({
      accessKeyId: adminCredentials.accessKeyId,
      secretAccessKey: 'a-wrong-secret',
    });
    await expect(forger.send(new ListUsersCommand({}))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
    forger.destroy();
    const users = await admin.send(new ListUsersCommand({}));
    expect(users.Users?.map((user) => user.UserName)).toContain('rotation-admin');
  });
});

describe('the aws secret schema', () => {
  it('accepts the seed shape and carries unknown fields over', () => {
    const value = {
      access_key_id: 'AKIAIOSFODNN7EXAMPLE',
      secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      rotated_at: '2024-01-01T00:00:00Z',
    };
    expect(awsKeySecretSchema.parse(value)).toEqual(value);
  });

  it('refuses a malformed key id or user name without echoing values', () => {
    const result = awsKeySecretSchema.safeParse({
      access_key_id: 'akia-lowercase-hunter2',
      secret_access_key: '',
      user_name: 'no spaces allowed',
    });
    expect(result.success).toBe(false);
    const text = JSON.stringify(result.error?.issues.map((issue) => [issue.path, issue.message]));
    expect(text).toContain('access_key_id');
    expect(text).toContain('secret_access_key');
    expect(text).toContain('user_name');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('no spaces allowed');
  });

  it('types as an ApiKeyProvider for the registry', () => {
    const generic: ApiKeyProvider = provider();
    expect(generic.name).toBe('aws');
    expect(generic.stagedFields ?? []).toEqual([]);
  });
});

describe('issue', () => {
  it('proves the current key by signing in with its pair, tags it, then creates and tags a second key', async () => {
    const { userName, current } = await userWithKey();
    const ctx = context();

    const issued = await issueKey(current, { context: ctx });

    expect(Object.keys(issued).sort()).toEqual(['access_key_id', 'secret_access_key', 'user_name']);
    expect(issued.user_name).toBe(userName);
    expect(issued.access_key_id).not.toBe(current.access_key_id);
    expect(await keysOf(userName)).toEqual(allActive(current, issued));
    expect(await tagsOf(userName)).toEqual({
      [keyTagKey(current.access_key_id)]: keyTagValue(ARN, TOKEN, 'proven'),
      [keyTagKey(issued.access_key_id)]: keyTagValue(ARN, TOKEN, 'created'),
    });
    expect(ctx.logger.lines.map((line) => line.message)).toEqual(
      expect.arrayContaining([
        "aws: access key proven to be this secret's (its pair signs in as the user); tagged",
        'aws: access key created',
        'aws: access key tagged',
      ]),
    );
  });

  it('uses user_name when the secret has one, without GetAccessKeyLastUsed', async () => {
    const { userName, current } = await userWithKey();
    const rotator = await rotatorWith({ deny: 'iam:GetAccessKeyLastUsed' });
    const aws = provider({ iam: rotator });

    const refused = await rejectionOf(aws.issue(issueInput(current)));
    expect(refused).toBeInstanceOf(ProviderAuthError);
    expect(refused.message).toMatch(
      /^aws: could not find the IAM user of the current access key …\w{4}: AccessDenied/,
    );

    const named = { ...current, user_name: userName };
    const issued = await issueKey(named, { aws });
    expect(issued.user_name).toBe(userName);
    expect(Object.keys(await keysOf(userName))).toHaveLength(2);
    rotator.destroy();
  });

  it("creates no key for another user's key id named with a secret that is not its pair", async () => {
    // A writer of some API-key secret names another application's key id (key ids are not secret).
    const victim = uniqueName('payments');
    await admin.send(new CreateUserCommand({ UserName: victim, Path: '/app/' }));
    const victimKey = await createKey(victim);
    const forged = remember({
      access_key_id: victimKey.access_key_id,
      secret_access_key: 'not-the-secret-of-that-key-0000000000000',
    });
    const ctx = context();

    const error = await rejectionOf(provider().issue(issueInput(forged, [forged], ctx)));

    expect(error).toBeInstanceOf(AccessKeyNotProvenError);
    expect(error.message).toContain(
      `the current access key ${hint(victimKey)} of IAM user ${victim} cannot be proven to be this secret's: ` +
        `it has no tag rotation-key:${hint(victimKey)}, and STS refused the secret's access_key_id and secret_access_key as a pair (SignatureDoesNotMatch)`,
    );
    expect(error.message).toContain('Nothing was deleted or created');
    expect(await keysOf(victim)).toEqual(allActive(victimKey));
    expect(await tagsOf(victim)).toEqual({});
  });

  it("refuses a current key tagged as another secret's, and an inactive untagged one, creating nothing", async () => {
    const { userName, current } = await userWithKey();
    await tag(userName, current, keyTagValue(secretArn('production/api-keys/other', REGION), 't', 'created'));
    const shared = await rejectionOf(provider().issue(issueInput(current)));
    expect(shared).toBeInstanceOf(AccessKeyNotProvenError);
    expect(shared.message).toContain("as another secret's key (two secrets cannot share an access key)");
    expect(await keysOf(userName)).toEqual(allActive(current));

    const other = await userWithKey();
    await setStatus(other.userName, other.current, 'Inactive');
    const inactive = await rejectionOf(provider().issue(issueInput(other.current)));
    expect(inactive).toBeInstanceOf(AccessKeyNotProvenError);
    expect(inactive.message).toContain('and it is Inactive, so its pair cannot sign in to prove it');
    expect(await keysOf(other.userName)).toEqual({ [other.current.access_key_id]: 'Inactive' });
  });

  it("takes the user's tag as proof without signing in", async () => {
    const { userName, current } = await userWithKey();
    await tag(userName, current, keyTagValue(ARN, 'an-earlier-rotation', 'created'));
    // A pair that cannot sign in: only the tag can prove the key is this secret's.
    const stale = { ...current, secret_access_key: 'rotated-out-of-band-000000000000000000000' };

    const issued = await issueKey(stale);

    expect(await keysOf(userName)).toEqual(allActive(current, issued));
  });

  it("never deletes another application's key: a key the secret never held fails the step, naming it", async () => {
    // The issue's case: /app/muejam-s3 holds K1 (in the secret) and K2 (another application's, in use).
    const userName = uniqueName('muejam-s3');
    await admin.send(new CreateUserCommand({ UserName: userName, Path: '/app/' }));
    const current = await createKey(userName);
    const foreign = await createKey(userName);
    await signInWith(foreign);
    const before = await keysOf(userName);
    const ctx = context({ rotationStartedAt: new Date(Date.now() + 1000) }); // the rotation begins now

    const error = await rejectionOf(provider().issue(issueInput(current, [current], ctx)));

    expect(error).toBeInstanceOf(ForeignAccessKeyError);
    expect(error).toBeInstanceOf(AccessKeyLimitError);
    expect(error.message).toContain(
      `IAM user ${userName} already has two access keys, and ${hint(foreign)} is not provably this secret's to delete`,
    );
    expect(error.message).toContain(`${hint(current)} (Active, this secret's current key)`);
    expect(error.message).toMatch(
      new RegExp(
        `${escapeRegExp(hint(foreign))} \\(Active, created \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, not provably this secret's: no rotation tag, and used \\(`,
      ),
    );
    expect(error.message).toContain('Nothing was deleted or created');
    expect(error.message).toContain(`aws iam delete-access-key --user-name ${userName}`);
    expect(error.message).toContain('give this secret an IAM user of its own');
    expect(error.message).not.toContain(foreign.access_key_id);
    expect(await keysOf(userName)).toEqual(before);
  });

  it('never deletes a key created by hand before the rotation began, even one never used', async () => {
    const { userName, current } = await userWithKey();
    const handMade = await createKey(userName);
    const ctx = context({
      rotationStartedAt: new Date(Date.now() + 2000),
      now: new Date(Date.now() + 3_600_000),
    });

    const error = await rejectionOf(provider().issue(issueInput(current, [current], ctx)));

    expect(error).toBeInstanceOf(ForeignAccessKeyError);
    expect(error.message).toContain(`${hint(handMade)} (Active, created`);
    expect(error.message).toContain('no rotation tag, and created before this rotation began');
    expect(await keysOf(userName)).toEqual(allActive(current, handMade));
  });

  it('never deletes an untagged key another principal created after the rotation began, even one never used', async () => {
    // Another team's key for another application, made on the same user after the rotation
    // began; Secrets Manager retries the step 20 minutes later.
    const { userName, current } = await userWithKey();
    const otherTeams = await createKey(userName);
    const ctx = context({ now: new Date(Date.now() + 20 * 60_000) });

    const error = await rejectionOf(provider().issue(issueInput(current, [current], ctx)));

    expect(error).toBeInstanceOf(ForeignAccessKeyError);
    expect(error.message).toContain(
      `not provably this secret's: no rotation tag (rotation-key:${hint(otherTeams)}): another principal's key, ` +
        'or one an attempt of this rotation created and could not tag',
    );
    expect(error.message).toContain("a log line 'aws: access key created' with this hint");
    expect(await keysOf(userName)).toEqual(allActive(current, otherTeams));
  });

  it('deletes an orphan of this rotation (tagged as its own, never stored, older than the step timeout) and its tag', async () => {
    const { userName, current } = await userWithKey();
    const aws = provider();
    const orphan = await issueKey(current, { aws }); // an earlier attempt's key, never stored
    const ctx = context({ now: new Date(Date.now() + 16 * 60_000), inFlightMs: 15 * 60_000 });

    const issued = await issueKey(current, { aws, context: ctx });

    expect(await keysOf(userName)).toEqual(allActive(current, issued));
    expect(Object.keys(await tagsOf(userName)).sort()).toEqual(
      [keyTagKey(current.access_key_id), keyTagKey(issued.access_key_id)].sort(),
    );
    const deletion = ctx.logger.lines.find((line) => line.message.includes('deleted'));
    expect(deletion?.message).toBe(
      "aws: deleted an access key this rotation created and never stored (tagged as this rotation's, held by no version)",
    );
    expect(deletion?.attributes).toContainEqual({ user: userName, key: hint(orphan), status: 'Active' });
    expect(ctx.logger.text()).not.toContain(orphan.access_key_id);
  });

  it("never takes another rotation's or another secret's tagged key for this rotation's orphan", async () => {
    const { userName, current } = await userWithKey();
    const earlier = await createKey(userName);
    await tag(userName, earlier, keyTagValue(ARN, 'an-earlier-rotation', 'created'));
    const ctx = context({ now: new Date(Date.now() + 3_600_000) });

    const error = await rejectionOf(provider().issue(issueInput(current, [current], ctx)));

    expect(error).toBeInstanceOf(ForeignAccessKeyError);
    expect(error.message).toContain(
      `tagged rotation-key:${hint(earlier)} as this secret's key of an earlier rotation, but held by no version`,
    );
    await tag(
      userName,
      earlier,
      keyTagValue(secretArn('production/api-keys/other', REGION), TOKEN, 'created'),
    );
    const other = await rejectionOf(provider().issue(issueInput(current, [current], ctx)));
    expect(other.message).toContain(`tagged rotation-key:${hint(earlier)} as another secret's key`);
    expect(await keysOf(userName)).toEqual(allActive(current, earlier));
  });

  it("fails with a retryable AccessKeyInFlightError for a key young enough to be another attempt's", async () => {
    const { userName, current } = await userWithKey();
    const young = await createKey(userName); // untagged: maybe between CreateAccessKey and TagUser
    const created = (
      await admin.send(new ListAccessKeysCommand({ UserName: userName }))
    ).AccessKeyMetadata?.find((key) => key.AccessKeyId === young.access_key_id)?.CreateDate;
    const ctx = context({ inFlightMs: 15 * 60_000 });

    const error = await rejectionOf(provider().issue(issueInput(current, [current], ctx)));

    expect(error).toBeInstanceOf(AccessKeyInFlightError);
    const retryAfter = new Date((created?.getTime() ?? 0) + 15 * 60_000);
    expect((error as AccessKeyInFlightError).retryAfter).toEqual(retryAfter);
    expect(error.message).toContain(`and ${hint(young)} may be another attempt's`);
    expect(error.message).toContain(
      `${hint(young)} (Active, created ${created?.toISOString()}, younger than ROTATION_STEP_TIMEOUT_SECONDS: another attempt of this step may still be storing it)`,
    );
    expect(error.message).toContain(
      `run createSecret again with ClientRequestToken ${TOKEN} at or after ${retryAfter.toISOString()}`,
    );
    expect(await keysOf(userName)).toEqual(allActive(current, young));
  });

  it("deletes a superseded key past its grace period once proven this secret's (tag, or its pair), with its tag", async () => {
    // Active and untagged: proven by signing in with the superseded version's pair.
    // Inactive and tagged: the revocation proved it before deactivating it.
    for (const status of ['Active', 'Inactive'] as const) {
      const { userName, current: previous } = await userWithKey();
      const current = await createKey(userName);
      if (status === 'Inactive') {
        await tag(userName, previous, keyTagValue(ARN, 'v1', 'proven'));
        await setStatus(userName, previous, 'Inactive');
      }
      const ctx = context({ rotationStartedAt: null });

      const issued = remember(await provider().issue(issueInput(current, [current], ctx, [previous])));

      expect(await keysOf(userName)).toEqual(allActive(current, issued));
      expect(await tagsOf(userName)).not.toHaveProperty(keyTagKey(previous.access_key_id));
      const deletion = ctx.logger.lines.find((line) => line.message.includes('deleted'));
      expect(deletion).toMatchObject({
        level: 'info',
        message: "aws: deleted this secret's superseded access key (past its grace period)",
      });
      expect(deletion?.attributes).toContainEqual({ user: userName, key: hint(previous), status });
    }
  });

  it('never deletes a superseded key it cannot prove: inactive and untagged, or a pair that does not sign in', async () => {
    const { userName, current: previous } = await userWithKey();
    const current = await createKey(userName);
    await setStatus(userName, previous, 'Inactive'); // deactivated before keys were tagged

    const inactive = await rejectionOf(
      provider().issue(issueInput(current, [current], context(), [previous])),
    );

    expect(inactive).toBeInstanceOf(ForeignAccessKeyError);
    expect(inactive.message).toContain(
      `a superseded version of this secret names it, but it has no tag rotation-key:${hint(previous)} ` +
        '(deactivated before this release tagged keys), and an inactive key cannot sign in to prove it',
    );
    await setStatus(userName, previous, 'Active');
    const forged = { ...previous, secret_access_key: 'not-the-pair-00000000000000000000000000' };
    const refused = await rejectionOf(provider().issue(issueInput(current, [current], context(), [forged])));
    expect(refused.message).toContain("and the version's secret access key does not sign in with it");
    expect(Object.keys(await keysOf(userName)).sort()).toEqual(
      [previous.access_key_id, current.access_key_id].sort(),
    );
  });

  it('never deletes a key a kept version holds, even when it is also listed as superseded', async () => {
    const { userName, current: previous } = await userWithKey();
    const current = await createKey(userName);
    const error = await rejectionOf(
      provider().issue(issueInput(current, [current, previous], context(), [previous])),
    );
    expect(error).toBeInstanceOf(AccessKeyLimitError);
    expect(await keysOf(userName)).toEqual(allActive(previous, current));
  });

  it('refuses while the previous key is in its grace period, saying what is there and touching nothing', async () => {
    const { userName, current: previous } = await userWithKey();
    const current = await createKey(userName);
    const before = await keysOf(userName);
    const error = await rejectionOf(provider().issue(issueInput(current, [current, previous])));
    expect(error.constructor).toBe(AccessKeyLimitError);
    expect(error.message).toBe(
      `aws: IAM user ${userName} already has two access keys, both still needed: ` +
        `${hint(previous)} (Active, this secret's previous key, in its grace period) and ` +
        `${hint(current)} (Active, this secret's current key). Nothing was deleted or created. ` +
        'IAM allows two keys per user: wait until the grace period ends and rotate again, or shorten the grace period ' +
        '(ROTATION_GRACE_PERIOD_SECONDS)',
    );
    expect(await keysOf(userName)).toEqual(before);
    // The previous key was proven while it could still sign in: once deactivated, it stays provable.
    expect(await tagsOf(userName)).toHaveProperty(
      keyTagKey(previous.access_key_id),
      keyTagValue(ARN, TOKEN, 'proven'),
    );
  });

  it('says so when the previous key in its grace period is already inactive', async () => {
    const { userName, current: previous } = await userWithKey();
    const current = await createKey(userName);
    await setStatus(userName, previous, 'Inactive');
    const error = await rejectionOf(provider().issue(issueInput(current, [current, previous])));
    expect(error.constructor).toBe(AccessKeyLimitError);
    expect(error.message).toContain(
      `${hint(previous)} (Inactive, this secret's previous key, in its grace period)`,
    );
    expect(error.message).toContain(
      `${hint(previous)} is already inactive (revoked early): if no rollback to it is needed, delete it by hand and rotate again`,
    );
    expect(await keysOf(userName)).toEqual({
      [previous.access_key_id]: 'Inactive',
      [current.access_key_id]: 'Active',
    });
  });

  it('fails closed when GetAccessKeyLastUsed is refused: nothing is deleted', async () => {
    const { userName, current } = await userWithKey();
    const unknown = await createKey(userName);
    const rotator = await rotatorWith({ deny: 'iam:GetAccessKeyLastUsed' });

    const error = await rejectionOf(
      provider({ iam: rotator }).issue(issueInput({ ...current, user_name: userName })),
    );

    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toContain(`could not find out whether access key ${hint(unknown)} was ever used`);
    expect(await keysOf(userName)).toEqual(allActive(current, unknown));
    rotator.destroy();
  });

  it('deletes the new key again when it cannot be tagged, and fails the step', async () => {
    const { userName, current } = await userWithKey();
    await tag(userName, current, keyTagValue(ARN, 'v1', 'proven'));
    const rotator = await rotatorWith({ deny: 'iam:TagUser' });
    const ctx = context();

    const error = await rejectionOf(
      provider({ iam: rotator }).issue(issueInput({ ...current, user_name: userName }, undefined, ctx)),
    );

    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toMatch(
      /could not tag the new access key …\w{4} of IAM user .* \(deleted again\): AccessDenied/,
    );
    expect(ctx.logger.lines.map((line) => line.message)).toEqual(
      expect.arrayContaining([
        'aws: access key created',
        'aws: could not tag the new access key; deleted it again',
      ]),
    );
    expect(await keysOf(userName)).toEqual(allActive(current));
    rotator.destroy();
  });

  it("removes the tags of this secret's keys that no longer exist, and no other tag", async () => {
    const { userName, current } = await userWithKey();
    const gone = await createKey(userName);
    await tag(userName, gone, keyTagValue(ARN, 'v1', 'created'));
    await admin.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: gone.access_key_id }));
    const othersTag = keyTagValue(secretArn('production/api-keys/other', REGION), 'v1', 'created');
    await admin.send(
      new TagUserCommand({
        UserName: userName,
        Tags: [{ Key: keyTagKey('AKIAOTHERSECRETSKEY1'), Value: othersTag }],
      }),
    );

    const issued = await issueKey(current);

    expect(await tagsOf(userName)).toEqual({
      [keyTagKey(current.access_key_id)]: keyTagValue(ARN, TOKEN, 'proven'),
      [keyTagKey(issued.access_key_id)]: keyTagValue(ARN, TOKEN, 'created'),
      [keyTagKey('AKIAOTHERSECRETSKEY1')]: othersTag,
    });
  });

  it('two issues at once end with one new key: the other attempt is told another may be storing its key', async () => {
    const { userName, current } = await userWithKey();
    const aws = provider();

    const results = await Promise.allSettled([
      aws.issue(issueInput(current)),
      aws.issue(issueInput(current)),
    ]);

    const issued = results.flatMap((result) =>
      result.status === 'fulfilled' ? [remember(result.value)] : [],
    );
    const refused = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as Error] : [],
    );
    expect(issued).toHaveLength(1);
    expect(refused).toHaveLength(1);
    errorTexts.push(...refused.map((error) => `${error.message}\n${error.stack}`));
    expect(refused[0]).toBeInstanceOf(AccessKeyInFlightError);
    expect(await keysOf(userName)).toEqual(allActive(current, ...issued));
  });

  it('refuses when user_name names a user the current key does not belong to, deleting nothing', async () => {
    const { current } = await userWithKey();
    const other = await userWithKey();
    const before = await keysOf(other.userName);
    const wrong = { ...current, user_name: other.userName };
    const error = await rejectionOf(provider().issue(issueInput(wrong)));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toContain(`is not a key of IAM user ${other.userName}`);
    expect(await keysOf(other.userName)).toEqual(before);
  });
});

describe('discard', () => {
  it('deletes the key the losing attempt created, and only that key', async () => {
    const { userName, current } = await userWithKey();
    const aws = provider();
    const created = await issueKey(current, { aws });
    const stored = { ...current, access_key_id: 'AKIAIOSFODNN7EXAMPLE', user_name: userName };
    const ctx = context();

    await aws.discard?.({ created, stored, context: ctx });
    await aws.discard?.({ created, stored, context: ctx }); // already gone: fine

    expect(await keysOf(userName)).toEqual(allActive(current));
    expect(ctx.logger.lines.map((line) => line.message)).toContain(
      'aws: deleted the access key of an attempt that lost the race to store the pending value',
    );
  });

  it('deletes nothing when the stored value holds the created key', async () => {
    const { userName, current } = await userWithKey();
    const aws = provider();
    const created = await issueKey(current, { aws });

    await aws.discard?.({ created, stored: { ...current, ...created }, context: context() });

    expect(await keysOf(userName)).toEqual(allActive(current, created));
  });
});

describe('test', () => {
  it('succeeds with the new key', async () => {
    const { current } = await userWithKey();
    const ctx = context();
    const aws = provider();
    const issued = await issueKey(current, { aws, context: ctx });
    await expect(aws.test({ value: { ...current, ...issued }, context: ctx })).resolves.toBeUndefined();
    expect(ctx.logger.lines.map((line) => line.message)).toContain('aws: new access key works');
  });

  it('succeeds for a key without user_name (owner looked up)', async () => {
    const { current } = await userWithKey();
    await expect(provider().test({ value: current, context: context() })).resolves.toBeUndefined();
  });

  it('fails with KeyTestFailedError after the bounded retries when the key was deleted', async () => {
    const { userName, current } = await userWithKey();
    const aws = provider();
    const issued = await issueKey(current, { aws });
    await admin.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: issued.access_key_id }));
    const ctx = context();
    const error = await rejectionOf(aws.test({ value: { ...current, ...issued }, context: ctx }));
    expect(error).toBeInstanceOf(KeyTestFailedError);
    expect(error.message).toContain('InvalidClientTokenId');
    expect(error.message).toContain('2 times');
    expect(error.message).not.toContain(issued.access_key_id);
    const retries = ctx.logger.lines.filter((line) => line.message.includes('not accepted yet'));
    expect(retries).toHaveLength(2);
  });

  it('fails when the key signs in as another user', async () => {
    const { current } = await userWithKey();
    const other = await userWithKey();
    const error = await rejectionOf(
      provider().test({ value: { ...current, user_name: other.userName }, context: context() }),
    );
    expect(error).toBeInstanceOf(KeyTestFailedError);
    expect(error.message).toContain(`does not sign in as IAM user ${other.userName}`);
  });
});

describe('revoke', () => {
  it("deactivates the old key once proven this secret's, idempotently, and never touches the current key", async () => {
    const { userName, current: old } = await userWithKey();
    const current = await createKey(userName);
    const aws = provider();

    const first = await aws.revoke({ old, current, context: context() });
    expect(first).toEqual({ revoked: [old.access_key_id], manual: [] });
    expect(await keysOf(userName)).toEqual({
      [old.access_key_id]: 'Inactive',
      [current.access_key_id]: 'Active',
    });
    // Proven by its pair before it was deactivated, and tagged: the next issue may delete it.
    expect(await tagsOf(userName)).toHaveProperty(
      keyTagKey(old.access_key_id),
      keyTagValue(ARN, TOKEN, 'proven'),
    );

    const again = await aws.revoke({ old: { ...old, user_name: userName }, current, context: context() });
    expect(again).toEqual(first);
    expect(await keysOf(userName)).toEqual({
      [old.access_key_id]: 'Inactive',
      [current.access_key_id]: 'Active',
    });

    // An "old" value holding the current key: nothing is revoked, nothing refused.
    const same = await aws.revoke({ old: current, current, context: context() });
    expect(same).toEqual({ revoked: [], manual: [] });
    expect((await keysOf(userName))[current.access_key_id]).toBe('Active');
  });

  it('leaves alone a key any kept version holds (AWSPENDING, AWSPREVIOUS in its grace period), not only AWSCURRENT', async () => {
    const { userName, current: old } = await userWithKey();
    const current = await createKey(userName);
    const ctx = context();

    const outcome = await provider().revoke({
      old,
      current,
      keep: [current, { ...old, rotated_at: 'x' }],
      context: ctx,
    });

    expect(outcome).toEqual({ revoked: [], manual: [] });
    expect(await keysOf(userName)).toEqual(allActive(old, current));
    expect(ctx.logger.lines.map((line) => line.message)).toContain(
      'aws: the old access key is still held by a version that must stay valid; left alone',
    );
  });

  it("leaves a key it cannot prove to a person: untagged, and the version's pair does not sign in", async () => {
    // A version naming another application's key id, with a made-up secret.
    const victim = await userWithKey();
    const { userName, current } = await userWithKey();
    const forged = {
      access_key_id: victim.current.access_key_id,
      secret_access_key: 'not-the-secret-of-that-key-0000000000000',
    };
    const ctx = context();

    const outcome = await provider().revoke({ old: forged, current, context: ctx });

    expect(outcome.revoked).toEqual([]);
    expect(outcome.manual).toEqual([
      `deactivate (then delete) the previous IAM access key ${hint(victim.current)} of user ${victim.userName} once nothing uses it: ` +
        `the rotation cannot prove it is this secret's (it has no tag rotation-key:${hint(victim.current)}, and STS refused the ` +
        "secret's access_key_id and secret_access_key as a pair (SignatureDoesNotMatch))",
    ]);
    expect(await keysOf(victim.userName)).toEqual(allActive(victim.current));
    expect(await keysOf(userName)).toEqual(allActive(current));
    // A key tagged as another secret's is left alone too.
    await tag(
      victim.userName,
      victim.current,
      keyTagValue(secretArn('production/api-keys/other', REGION), 'v', 'created'),
    );
    const tagged = await provider().revoke({ old: victim.current, current, context: ctx });
    expect(tagged.manual[0]).toContain("as another secret's key");
    expect(await keysOf(victim.userName)).toEqual(allActive(victim.current));
  });

  it('counts a key already deleted as revoked', async () => {
    const { userName, current: old } = await userWithKey();
    const current = await createKey(userName);
    await admin.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: old.access_key_id }));
    const aws = provider();
    expect(await aws.revoke({ old, current, context: context() })).toEqual({
      revoked: [old.access_key_id],
      manual: [],
    });
    expect(await aws.revoke({ old: { ...old, user_name: userName }, current, context: context() })).toEqual({
      revoked: [old.access_key_id],
      manual: [],
    });
    expect(await keysOf(userName)).toEqual(allActive(current));
  });

  it("fails closed when user_name names another user than the key's: a live key is never counted as revoked", async () => {
    const { userName, current: old } = await userWithKey();
    const current = await createKey(userName);
    const aws = provider();

    for (const wrongUser of [uniqueName('no-such-user'), (await userWithKey()).userName]) {
      const error = await rejectionOf(
        aws.revoke({ old: { ...old, user_name: wrongUser }, current, context: context() }),
      );
      expect(error).toBeInstanceOf(ProviderError);
      expect(error.message).toContain(
        `the old access key ${hint(old)} belongs to IAM user ${userName}, not to ${wrongUser} as its version's user_name says: nothing was revoked`,
      );
    }
    expect(await keysOf(userName)).toEqual(allActive(old, current));
    // Once the key is really gone, the same input counts as revoked.
    await admin.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: old.access_key_id }));
    expect(
      await aws.revoke({
        old: { ...old, user_name: uniqueName('no-such-user') },
        current,
        context: context(),
      }),
    ).toEqual({ revoked: [old.access_key_id], manual: [] });
  });

  it('leaves a rollback possible: the deactivated key is deleted only by the next issue', async () => {
    const { userName, current: old } = await userWithKey();
    const current = await createKey(userName);
    const aws = provider();
    await aws.revoke({ old, current, context: context() });
    expect(Object.keys(await keysOf(userName))).toHaveLength(2);
    // The next rotation is told the old version is superseded past its grace period.
    const issued = remember(await aws.issue(issueInput(current, [current], context(), [old])));
    expect(await keysOf(userName)).toEqual(allActive(current, issued));
  });
});

describe('isSecretsAccessKey', () => {
  it("says whether the user's tag makes a key this secret's (what a rollback checks before reactivating it)", async () => {
    const { userName, current } = await userWithKey();
    expect(await isSecretsAccessKey(admin, userName, current.access_key_id, ARN)).toBe(false);
    await tag(userName, current, keyTagValue(ARN, 'v1', 'proven'));
    expect(await isSecretsAccessKey(admin, userName, current.access_key_id, ARN)).toBe(true);
    const other = secretArn('production/api-keys/other', REGION);
    expect(await isSecretsAccessKey(admin, userName, current.access_key_id, other)).toBe(false);
  });
});

describe('error mapping', () => {
  it('maps an unreachable IAM to ProviderUnavailableError', async () => {
    const unreachable = new IAMClient({
      region: REGION,
      endpoint: 'http://127.0.0.1:9',
      credentials: adminCredentials,
      maxAttempts: 1,
    });
    const { current } = await userWithKey();
    const error = await rejectionOf(provider({ iam: unreachable }).issue(issueInput(current)));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toMatch(/: ECONNREFUSED \(no answer from AWS\)$/);
    unreachable.destroy();
  });

  it('maps Throttling to ProviderRateLimitError and an unknown code to ProviderError', async () => {
    const failing = (name: string, status: number) =>
      ({
        send: async () => {
          throw Object.assign(new Error(`Rate exceeded for AKIAIOSFODNN7EXAMPLE`), {
            name,
            $metadata: { httpStatusCode: status, requestId: 'req-1' },
          });
        },
      }) as unknown as IAMClient;
    const current = remember({
      access_key_id: 'AKIAIOSFODNN7EXAMPLE',
      secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      user_name: 'someone',
    });
    const throttled = await rejectionOf(
      provider({ iam: failing('Throttling', 400) }).issue(issueInput(current)),
    );
    expect(throttled).toBeInstanceOf(ProviderRateLimitError);
    expect(throttled.message).toBe(
      'aws: could not list the access keys of IAM user someone: Throttling (HTTP 400, request req-1)',
    );
    const odd = await rejectionOf(
      provider({ iam: failing('LimitExceededException', 409) }).issue(issueInput(current)),
    );
    expect(odd.constructor).toBe(ProviderError);
    expect(odd.message).toContain('LimitExceeded (HTTP 409');
    expect(odd.message).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });
});

describe('secrets', () => {
  it('appear in no error message and no log line', () => {
    expect(secrets.length).toBeGreaterThan(10);
    expect(errorTexts.length).toBeGreaterThan(0);
    const logged = loggers.map((logger) => logger.text()).join('\n');
    expect(logged.length).toBeGreaterThan(0);
    expect(findLeaks(`${errorTexts.join('\n')}\n${logged}`, secrets)).toEqual([]);
  });
});
