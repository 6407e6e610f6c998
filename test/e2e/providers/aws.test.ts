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
  PutUserPolicyCommand,
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
  type AwsKeySecret,
  awsKeySecretSchema,
  createAwsProvider,
  ForeignAccessKeyError,
} from '../../../shared/api-keys/providers/aws/index.js';
import { findLeaks, uniqueName } from '../../support/bed.js';
import type { RecordingLogger } from '../../support/fakes.js';
import { startMoto } from '../../support/local-stack.js';
import { providerContext } from '../../support/provider-tests.js';

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

/** The IAM client of a rotator that may manage keys but not call GetAccessKeyLastUsed. */
async function rotatorWithoutLastUsed(): Promise<IAMClient> {
  const rotatorName = await createUser('rotator', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iam:*', Resource: '*' },
      { Effect: 'Deny', Action: 'iam:GetAccessKeyLastUsed', Resource: '*' },
    ],
  });
  const rotatorKey = await createKey(rotatorName);
  return iamClient({ accessKeyId: rotatorKey.access_key_id, secretAccessKey: rotatorKey.secret_access_key });
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
  it('creates a second key for the user found with GetAccessKeyLastUsed', async () => {
    const { userName, current } = await userWithKey();
    const ctx = context();
    const issued = await issueKey(current, { context: ctx });
    expect(Object.keys(issued).sort()).toEqual(['access_key_id', 'secret_access_key', 'user_name']);
    expect(issued.user_name).toBe(userName);
    expect(issued.access_key_id).not.toBe(current.access_key_id);
    expect(await keysOf(userName)).toEqual(allActive(current, issued));
    expect(ctx.logger.lines.map((line) => line.message)).toContain('aws: access key created');
  });

  it('uses user_name when the secret has one, without GetAccessKeyLastUsed', async () => {
    const { userName, current } = await userWithKey();
    const rotator = await rotatorWithoutLastUsed();
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
      `IAM user ${userName} already has two access keys, and ${hint(foreign)} is not this secret's to delete`,
    );
    expect(error.message).toContain(`${hint(current)} (Active, this secret's current key)`);
    expect(error.message).toMatch(
      new RegExp(
        `${escapeRegExp(hint(foreign))} \\(Active, created \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, held by no version of this secret`,
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
    expect(error.message).toContain('created before this rotation began');
    expect(await keysOf(userName)).toEqual(allActive(current, handMade));
  });

  it('never deletes a key created after the rotation began that has been used', async () => {
    const { userName, current } = await userWithKey();
    const used = await createKey(userName);
    await signInWith(used);
    const ctx = context({ now: new Date(Date.now() + 3_600_000) });

    const error = await rejectionOf(provider().issue(issueInput(current, [current], ctx)));

    expect(error).toBeInstanceOf(ForeignAccessKeyError);
    expect(error.message).toMatch(
      /held by no version of this secret: used \(\d{4}-[\d-]+T[\d:.]+Z\), so not an orphan of this rotation/,
    );
    expect(await keysOf(userName)).toEqual(allActive(current, used));
  });

  it('refuses to call a key an orphan when Secrets Manager gives no start date for the rotation', async () => {
    const { userName, current } = await userWithKey();
    const unproven = await createKey(userName);
    const ctx = context({ rotationStartedAt: null, now: new Date(Date.now() + 3_600_000) });

    const error = await rejectionOf(provider().issue(issueInput(current, [current], ctx)));

    expect(error).toBeInstanceOf(ForeignAccessKeyError);
    expect(error.message).toContain("no creation date for this rotation's version");
    expect(await keysOf(userName)).toEqual(allActive(current, unproven));
  });

  it('deletes an orphan of this rotation: created after it began, never used, older than the step timeout', async () => {
    const { userName, current } = await userWithKey();
    const orphan = await createKey(userName); // an earlier attempt's key, never stored
    const ctx = context({ now: new Date(Date.now() + 16 * 60_000), inFlightMs: 15 * 60_000 });

    const issued = await issueKey(current, { context: ctx });

    expect(await keysOf(userName)).toEqual(allActive(current, issued));
    const deletion = ctx.logger.lines.find((line) => line.message.includes('deleted'));
    expect(deletion?.message).toBe(
      'aws: deleted an access key this rotation created and never stored (created after it began, never used)',
    );
    expect(deletion?.attributes).toContainEqual({ user: userName, key: hint(orphan), status: 'Active' });
    expect(ctx.logger.text()).not.toContain(orphan.access_key_id);
  });

  it("fails with a retryable AccessKeyInFlightError for an unused key young enough to be another attempt's", async () => {
    const { userName, current } = await userWithKey();
    const young = await createKey(userName);
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
      `${hint(young)} (Active, created ${created?.toISOString()}, never used, younger than ROTATION_STEP_TIMEOUT_SECONDS: another attempt of this step may still be storing it)`,
    );
    expect(error.message).toContain(
      `run createSecret again with ClientRequestToken ${TOKEN} at or after ${retryAfter.toISOString()}`,
    );
    expect(await keysOf(userName)).toEqual(allActive(current, young));
  });

  it('deletes a superseded key past its grace period (inactive or not), then succeeds', async () => {
    for (const status of ['Inactive', 'Active'] as const) {
      const { userName, current: previous } = await userWithKey();
      const current = await createKey(userName);
      await admin.send(
        new UpdateAccessKeyCommand({
          UserName: userName,
          AccessKeyId: previous.access_key_id,
          Status: status,
        }),
      );
      const ctx = context({ rotationStartedAt: null });

      const issued = remember(await provider().issue(issueInput(current, [current], ctx, [previous])));

      expect(await keysOf(userName)).toEqual(allActive(current, issued));
      const deletion = ctx.logger.lines.find((line) => line.message.includes('deleted'));
      expect(deletion).toMatchObject({
        level: 'info',
        message: "aws: deleted this secret's superseded access key (past its grace period)",
      });
      expect(deletion?.attributes).toContainEqual({ user: userName, key: hint(previous), status });
    }
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
  });

  it('says so when the previous key in its grace period is already inactive', async () => {
    const { userName, current: previous } = await userWithKey();
    const current = await createKey(userName);
    await admin.send(
      new UpdateAccessKeyCommand({
        UserName: userName,
        AccessKeyId: previous.access_key_id,
        Status: 'Inactive',
      }),
    );
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
    const rotator = await rotatorWithoutLastUsed();
    const ctx = context({ now: new Date(Date.now() + 3_600_000) });

    const error = await rejectionOf(
      provider({ iam: rotator }).issue(issueInput({ ...current, user_name: userName }, undefined, ctx)),
    );

    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toContain(`could not find out whether access key ${hint(unknown)} was ever used`);
    expect(await keysOf(userName)).toEqual(allActive(current, unknown));
    rotator.destroy();
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
  it('deactivates the old key, idempotently, and never touches the current key', async () => {
    const { userName, current: old } = await userWithKey();
    const current = await createKey(userName);
    const aws = provider();

    const first = await aws.revoke({ old, current, context: context() });
    expect(first).toEqual({ revoked: [old.access_key_id], manual: [] });
    expect(await keysOf(userName)).toEqual({
      [old.access_key_id]: 'Inactive',
      [current.access_key_id]: 'Active',
    });

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
