import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CredentialSecretRefusedError,
  KeyTestFailedError,
  ProviderAuthError,
  ProviderError,
  ProviderRateLimitError,
  ProviderResponseError,
  ProviderUnavailableError,
} from '../../../shared/api-keys/errors.js';
import type { RetryPolicy } from '../../../shared/api-keys/http.js';
import type { ApiKeyProvider, RevokeInput, RevokeOutcome } from '../../../shared/api-keys/provider.js';
import {
  createResendProvider,
  isMarkedBy,
  RESEND_KEY_NAME_MAX,
  type ResendSecret,
  resendKeyName,
  rotationMarker,
} from '../../../shared/api-keys/providers/resend/index.js';
import type { SecretFields } from '../../../shared/rotation/strategy.js';
import {
  type FakeResend,
  type FakeResendOptions,
  startFakeResend,
} from '../../support/fakes/resend-server.js';
import { RecordingLogger } from '../../support/fakes.js';
import { providerContext, Seen, secretArn } from '../../support/provider-tests.js';

const SECRET_NAME = 'production/api-keys/resend';
const ADMIN_SECRET = 'production/rotation/resend-admin';
/** The id of the version the old key belongs to: the token of the rotation that created it. */
const OLD_VERSION = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
/** A Secrets Manager ClientRequestToken (a UUID): its first 12 hex digits tag the keys it creates. */
const TOKEN = '3f2a9c1e-4b5d-4e6f-8a9b-0c1d2e3f4a5b';
const NEXT_TOKEN = '7c6b5a49-3827-4165-9f8e-7d6c5b4a3928';
const FAST: RetryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2000 };

let fake: FakeResend;
let provider: ApiKeyProvider<ResendSecret>;
let logger: RecordingLogger;
/** Every error a test caught, and every value a provider returned except issued keys: scanned for keys. */
let seen: Seen;

async function useFake(options: FakeResendOptions = {}): Promise<void> {
  await fake?.close();
  fake = await startFakeResend(options);
  provider = createResendProvider({ baseUrl: fake.url, retry: FAST });
}

beforeEach(async () => {
  logger = new RecordingLogger();
  seen = new Seen(logger);
  await useFake();
});

afterEach(async () => {
  // No key the fake ever issued may appear in a log line, an error or a returned reminder.
  const leaks = seen.leaks(fake.issuedTokens());
  await fake.close();
  expect(leaks).toEqual([]);
});

/**
 * A context for the secret `secretName` (SECRET_NAME unless given): `readSecret` answers
 * `secrets`, and the secret's own ARN with `current` when given (AWSCURRENT, which manages
 * keys in discard and cleanup).
 */
function context(
  secrets: Record<string, SecretFields> = {},
  token = TOKEN,
  options: { current?: SecretFields; secretName?: string } = {},
) {
  const secretName = options.secretName ?? SECRET_NAME;
  return providerContext({
    secretName,
    token,
    logger,
    now: new Date('2025-06-01T00:00:00Z'),
    secrets: { ...secrets, ...(options.current ? { [secretArn(secretName)]: options.current } : {}) },
  });
}

/** The tag a rotation's key names carry: 12 hex digits of SHA-256 over the secret's ARN, a newline and the token. */
function tagOf(token: string, secretName = SECRET_NAME): string {
  return createHash('sha256')
    .update(`${secretArn(secretName)}\n${token}`)
    .digest('hex')
    .slice(0, 12);
}

const TAG = tagOf(TOKEN);

/** `provider.cleanup` as testSecret runs it, for the stored pending value `value` of AWSCURRENT `current`. */
async function cleanup(value: ResendSecret, current: ResendSecret, token = TOKEN, secretName = SECRET_NAME) {
  await provider.cleanup?.({ value, context: context({}, token, { current, secretName }) });
}

function parse(fields: SecretFields): ResendSecret {
  return provider.schema.parse(fields);
}

/** The seed's shape: `{api_key, rotated_at}`, no id. */
function seedSecret(name = 'Production', permission: 'full_access' | 'sending_access' = 'full_access') {
  const key = fake.seedKey({ name, permission });
  return { key, secret: parse({ api_key: key.token, rotated_at: '2024-01-01T00:00:00Z' }) };
}

async function issue(current: ResendSecret, ctx = context(), keep: ResendSecret[] = [current]) {
  const fields = await provider.issue({ current, staged: undefined, keep, context: ctx });
  seen.outputs.push({ ...fields, api_key: undefined });
  return fields;
}

const failure = (promise: Promise<unknown>) => seen.failure(promise);

/** The value holding `key` (its token and id), with `fields` added. */
function holding(key: { id: string; token: string }, fields: SecretFields = {}): ResendSecret {
  return parse({ api_key: key.token, api_key_id: key.id, ...fields });
}

/** `provider.revoke`, its outcome recorded for the leak scan. */
async function revoke(input: RevokeInput<ResendSecret>): Promise<RevokeOutcome> {
  const outcome = await provider.revoke(input);
  seen.outputs.push(outcome);
  return outcome;
}

/** The ids of the keys the fake holds, sorted. */
const keyIds = () =>
  fake
    .keys()
    .map((k) => k.id)
    .sort();

function requestsTo(method: string, path: RegExp) {
  return fake.server.requests.filter((request) => request.method === method && path.test(request.path));
}

describe('Resend secret schema', () => {
  it('accepts the seed shape, defaults permission to full_access and keeps unknown fields', () => {
    const value = parse({ api_key: 're_abcdefghijklmnop', rotated_at: '2024-01-01T00:00:00Z' });
    expect(value).toMatchObject({ api_key: 're_abcdefghijklmnop', permission: 'full_access' });
    expect(value.rotated_at).toBe('2024-01-01T00:00:00Z');
  });

  it('names each bad field and never echoes a value', () => {
    const secretValue = 'sk_live_notaresendkey1234';
    const result = provider.schema.safeParse({
      api_key: secretValue,
      permission: 'admin_everything',
      admin_secret_id: 42,
    });
    expect(result.success).toBe(false);
    const issues = result.error?.issues ?? [];
    expect(issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'admin_secret_id',
      'api_key',
      'permission',
    ]);
    const text = JSON.stringify(issues.map((issue) => issue.message));
    expect(text).not.toContain(secretValue);
    expect(text).not.toContain('admin_everything');
    expect(provider.schema.safeParse({ rotated_at: 'x' }).error?.issues[0]).toMatchObject({
      path: ['api_key'],
      message: 'is required',
    });
  });
});

describe('key names', () => {
  const ARN = secretArn(SECRET_NAME);

  it('are <base> (rotation <tag>), replace an earlier suffix and fit 50 characters', () => {
    expect(resendKeyName('Production', ARN, TOKEN)).toBe(`Production (rotation ${TAG})`);
    expect(resendKeyName('Production (rotation 0123456789ab)', ARN, TOKEN)).toBe(
      `Production (rotation ${TAG})`,
    );
    const long = resendKeyName('x'.repeat(80), ARN, TOKEN);
    expect(long.length).toBe(RESEND_KEY_NAME_MAX);
    expect(long.endsWith(rotationMarker(ARN, TOKEN))).toBe(true);
  });

  it('carry a tag of the secret and the token: the same for every attempt, another for another secret or token', () => {
    const other = secretArn('production/api-keys/resend-marketing');
    expect(rotationMarker(ARN, TOKEN)).toBe(rotationMarker(ARN, TOKEN));
    expect(rotationMarker(other, TOKEN)).not.toBe(rotationMarker(ARN, TOKEN));
    expect(rotationMarker(ARN, NEXT_TOKEN)).not.toBe(rotationMarker(ARN, TOKEN));
    expect(rotationMarker(ARN, 'rotation-2025-06-01-a')).not.toBe(
      rotationMarker(ARN, 'rotation-2025-06-01-b'),
    );
  });

  it("count as this rotation's only when they end with its marker", () => {
    expect(isMarkedBy(`Production ${rotationMarker(ARN, TOKEN)}`, ARN, TOKEN)).toBe(true);
    expect(isMarkedBy(`Production ${rotationMarker(ARN, TOKEN)} copy`, ARN, TOKEN)).toBe(false);
    expect(isMarkedBy(`Production (rotation ${TOKEN.replace(/-/g, '').slice(0, 12)})`, ARN, TOKEN)).toBe(
      false,
    );
    expect(isMarkedBy(null, ARN, TOKEN)).toBe(false);
  });
});

describe('issue', () => {
  it('creates a key named after the current one with the rotation tag, managed by the current key', async () => {
    const { key, secret } = seedSecret();
    const fields = await issue(parse({ ...secret, api_key_name: 'Production' }));
    expect(fields).toEqual({
      api_key: expect.stringMatching(/^re_/),
      api_key_id: expect.any(String),
      api_key_name: `Production (rotation ${TAG})`,
    });
    const created = fake.keys().find((k) => k.id === fields.api_key_id);
    expect(created).toMatchObject({
      name: fields.api_key_name,
      token: fields.api_key,
      permission: 'full_access',
    });
    expect(fake.keys().some((k) => k.id === key.id)).toBe(true); // the current key stays valid
    expect(requestsTo('POST', /^\/api-keys$/)[0]?.headers.authorization).toBe(`Bearer ${key.token}`);
  });

  it("uses the secret's name when the secret records no key name", async () => {
    const { secret } = seedSecret();
    const fields = await issue(secret);
    expect(fields.api_key_name).toBe(`${SECRET_NAME} (rotation ${TAG})`);
  });

  it('deletes nothing, not even a key an earlier attempt of this rotation left', async () => {
    // That attempt may still be running, and its key may be the one it stores.
    const { key, secret } = seedSecret();
    const earlier = fake.seedKey({ name: `Production (rotation ${TAG})` });
    const fields = await issue(secret);
    expect(keyIds()).toEqual([key.id, earlier.id, fields.api_key_id].sort());
    expect(requestsTo('DELETE', /^\/api-keys\//)).toHaveLength(0);
  });

  it('leaves the twin of a create whose answer was lost and retried to cleanup', async () => {
    const { key, secret } = seedSecret();
    fake.loseNextAnswer('POST', { status: 502, body: 'Bad Gateway' });
    const fields = await issue(secret);
    expect(requestsTo('POST', /^\/api-keys$/)).toHaveLength(2);
    expect(fake.keys()).toHaveLength(3);

    await cleanup(parse({ ...secret, ...fields }), secret);

    expect(keyIds()).toEqual([key.id, fields.api_key_id].sort());
  });

  it('manages a sending-only key through the admin secret, keeping permission and domain', async () => {
    const admin = fake.seedKey({ name: 'Key admin', permission: 'full_access' });
    const sending = fake.seedKey({ name: 'Mailer', permission: 'sending_access', domain_id: 'dom_1' });
    const current = parse({
      api_key: sending.token,
      api_key_id: sending.id,
      api_key_name: 'Mailer',
      permission: 'sending_access',
      domain_id: 'dom_1',
      admin_secret_id: ADMIN_SECRET,
    });
    const ctx = context({ [ADMIN_SECRET]: { api_key: admin.token, rotated_at: '2024-01-01T00:00:00Z' } });
    const fields = await issue(current, ctx);
    expect(fake.keys().find((k) => k.id === fields.api_key_id)).toMatchObject({
      name: `Mailer (rotation ${TAG})`,
      permission: 'sending_access',
      domain_id: 'dom_1',
    });
    for (const request of fake.server.requests)
      expect(request.headers.authorization).toBe(`Bearer ${admin.token}`);
  });

  it('refuses a sending-only key without admin_secret_id, naming the field, before any request', async () => {
    const { secret } = seedSecret('Mailer', 'sending_access');
    const error = await failure(issue(parse({ ...secret, permission: 'sending_access' })));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toContain('"admin_secret_id"');
    expect(error.message).toContain(SECRET_NAME);
    expect(fake.server.requests).toHaveLength(0);
  });

  it("refuses an admin_secret_id outside {environment}/rotation/ (another team's API-key secret) before any read", async () => {
    const billing = fake.seedKey({ name: 'billing', permission: 'full_access' });
    const { secret } = seedSecret('newsletter', 'sending_access');
    const reads: string[] = [];
    for (const adminId of [
      'production/api-keys/resend-billing',
      `${secretArn('production/api-keys/resend-billing')}`,
      'staging/rotation/resend-admin',
      secretArn(ADMIN_SECRET).replace('123456789012', '210987654321'),
      'production/rotation/',
    ]) {
      const ctx = context({ [adminId]: { api_key: billing.token } });
      const read = ctx.readSecret;
      ctx.readSecret = async (id) => {
        reads.push(id);
        return read(id);
      };
      const current = parse({ ...secret, permission: 'sending_access', admin_secret_id: adminId });
      const error = await failure(issue(current, ctx));
      expect(error).toBeInstanceOf(CredentialSecretRefusedError);
      expect((error as CredentialSecretRefusedError).fields).toEqual(['admin_secret_id']);
      expect(error.message).toContain(
        `secret ${SECRET_NAME}: admin_secret_id names a secret outside production/rotation/`.slice(0, 40),
      );
      expect(error.message).toContain(
        'Provider credentials are read only from secrets named production/rotation/<name>',
      );
      expect(error.message).toContain('Nothing was read');
    }
    expect(reads).toEqual([]);
    expect(fake.server.requests).toHaveLength(0);
    // The same admin key under production/rotation/, by name or ARN, is used.
    for (const adminId of [ADMIN_SECRET, secretArn(ADMIN_SECRET)]) {
      const current = parse({ ...secret, permission: 'sending_access', admin_secret_id: adminId });
      await issue(current, context({ [adminId]: { api_key: billing.token } }));
    }
    expect(requestsTo('POST', /^\/api-keys$/)).toHaveLength(2);
  });

  it('refuses an admin secret that holds no Resend key or a sending-only one', async () => {
    const { secret } = seedSecret('Mailer', 'sending_access');
    const current = parse({ ...secret, permission: 'sending_access', admin_secret_id: ADMIN_SECRET });
    const noKey = await failure(issue(current, context({ [ADMIN_SECRET]: { token: 'x' } })));
    expect(noKey.message).toContain(`admin secret ${ADMIN_SECRET}`);
    const admin = fake.seedKey({ name: 'Not admin', permission: 'sending_access' });
    const sendingAdmin = await failure(
      issue(current, context({ [ADMIN_SECRET]: { api_key: admin.token, permission: 'sending_access' } })),
    );
    expect(sendingAdmin.message).toContain('full_access');
    expect(fake.server.requests).toHaveLength(0);
  });
});

describe('cleanup (testSecret, once the pending value is stored)', () => {
  it("deletes every other key carrying this rotation's marker, and no other key", async () => {
    const { key, secret } = seedSecret();
    const first = await issue(secret);
    const second = await issue(secret);
    const otherRotation = fake.seedKey({ name: `Production (rotation ${tagOf(NEXT_TOKEN)})` });
    const unmarked = fake.seedKey({ name: 'Production' });

    await cleanup(parse({ ...secret, ...second }), secret);
    await cleanup(parse({ ...secret, ...second }), secret); // idempotent

    expect(keyIds()).toEqual([key.id, second.api_key_id, otherRotation.id, unmarked.id].sort());
    expect(keyIds()).not.toContain(first.api_key_id);
    expect(logger.text()).toContain('deleted a key left by another attempt of this rotation');
  });

  it('finds the leftovers on a later page of the list', async () => {
    await useFake({ pageSize: 2 });
    const { key, secret } = seedSecret();
    const leftover = fake.seedKey({ name: `Production (rotation ${TAG})` });
    for (let i = 0; i < 5; i++) fake.seedKey({ name: `Other ${i}` });
    const fields = await issue(secret);

    await cleanup(parse({ ...secret, ...fields }), secret);

    const ids = fake.keys().map((k) => k.id);
    expect(ids).not.toContain(leftover.id);
    expect(ids).toContain(key.id);
    expect(ids).toContain(fields.api_key_id);
    expect(requestsTo('GET', /^\/api-keys$/).some((r) => r.query.get('after'))).toBe(true);
  });

  it('deletes the key of a create whose answer had no token', async () => {
    const { key, secret } = seedSecret();
    fake.loseNextAnswer('POST', { status: 201, body: { id: 'dacf4072-4119-4d88-932f-6202748ac7c8' } });
    await failure(issue(secret));
    const fields = await issue(secret);

    await cleanup(parse({ ...secret, ...fields }), secret);

    expect(keyIds()).toEqual([key.id, fields.api_key_id].sort());
  });

  it('manages keys with the AWSCURRENT key, not the pending one', async () => {
    const { secret } = seedSecret();
    const fields = await issue(secret);
    fake.server.reset();
    await cleanup(parse({ ...secret, ...fields }), secret);
    expect(fake.server.requests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${secret.api_key}`,
    ]);
  });

  it('deletes nothing when the stored value records no key id', async () => {
    const { secret } = seedSecret();
    const leftover = fake.seedKey({ name: `Production (rotation ${TAG})` });
    await cleanup(parse({ api_key: leftover.token }), secret);
    expect(keyIds()).toContain(leftover.id);
    expect(fake.server.requests).toHaveLength(0);
  });
});

describe('two secrets rotated with the same token', () => {
  const OTHER_SECRET = 'production/api-keys/resend-marketing';

  it("never lets one secret's rotation delete the other's keys", async () => {
    // Secret A is rotated with TOKEN: its new key becomes AWSCURRENT.
    const a = seedSecret('Transactional');
    const aFields = await issue(parse({ ...a.secret, api_key_name: 'Transactional' }));
    const aCurrent = parse({ ...a.secret, ...aFields });
    await cleanup(aCurrent, a.secret);
    // Secret B, same account, is rotated with the same TOKEN, twice (a retried attempt).
    const b = seedSecret('Marketing');
    const bCurrent = parse({ ...b.secret, api_key_name: 'Marketing' });
    const ctxB = context({}, TOKEN, { secretName: OTHER_SECRET });
    const bFirst = await provider.issue({
      current: bCurrent,
      staged: undefined,
      keep: [bCurrent],
      context: ctxB,
    });
    const bSecond = await provider.issue({
      current: bCurrent,
      staged: undefined,
      keep: [bCurrent],
      context: ctxB,
    });
    seen.outputs.push({ ...bFirst, api_key: undefined }, { ...bSecond, api_key: undefined });
    expect(bSecond.api_key_name).toBe(`Marketing (rotation ${tagOf(TOKEN, OTHER_SECRET)})`);

    await cleanup(parse({ ...bCurrent, ...bSecond }), bCurrent, TOKEN, OTHER_SECRET);

    expect(keyIds()).toContain(aFields.api_key_id); // A's AWSCURRENT key lives on
    expect(keyIds()).not.toContain(bFirst.api_key_id); // B's own leftover is gone
    expect(keyIds()).toEqual([a.key.id, aFields.api_key_id, b.key.id, bSecond.api_key_id].sort());
  });
});

describe('discard (an attempt lost the race to store the pending value)', () => {
  it('deletes the key this attempt created, managed by the AWSCURRENT key, and nothing else', async () => {
    const { key, secret } = seedSecret();
    const winner = await issue(secret);
    const loser = await issue(secret);
    const ctx = context({}, TOKEN, { current: secret });

    await provider.discard?.({ created: loser, stored: parse({ ...secret, ...winner }), context: ctx });
    await provider.discard?.({ created: loser, stored: parse({ ...secret, ...winner }), context: ctx });

    expect(keyIds()).toEqual([key.id, winner.api_key_id].sort());
    expect(requestsTo('DELETE', /^\/api-keys\//).map((r) => r.headers.authorization)).toEqual([
      `Bearer ${secret.api_key}`,
      `Bearer ${secret.api_key}`,
    ]);
    expect(logger.text()).toContain('resend: deleted the key of an attempt that lost the race');
  });

  it('deletes nothing when the stored value holds the created key', async () => {
    const { key, secret } = seedSecret();
    const fields = await issue(secret);
    await provider.discard?.({
      created: fields,
      stored: parse({ ...secret, ...fields }),
      context: context({}, TOKEN, { current: secret }),
    });
    expect(keyIds()).toEqual([key.id, fields.api_key_id].sort());
  });
});

describe('test', () => {
  it('passes for a new full-access key', async () => {
    const { secret } = seedSecret();
    const fields = await issue(secret);
    await provider.test({ value: parse({ ...secret, ...fields }), context: context() });
    expect(logger.text()).toContain('new API key works');
  });

  it('passes for a sending-only key (restricted_api_key proves it is valid) and sends no email', async () => {
    const sending = fake.seedKey({ name: 'Mailer', permission: 'sending_access' });
    const value = holding(sending, { permission: 'sending_access' });
    await provider.test({ value, context: context() });
    expect(fake.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api-keys']);
  });

  it('fails for a sending-only key recorded as full_access', async () => {
    const sending = fake.seedKey({ name: 'Mailer', permission: 'sending_access' });
    const error = await failure(provider.test({ value: holding(sending), context: context() }));
    expect(error).toBeInstanceOf(KeyTestFailedError);
    expect(error.message).toContain('restricted_api_key');
  });

  for (const invalidKeyStatus of [403, 400] as const) {
    it(`fails with KeyTestFailedError for a deleted key (Resend answering ${invalidKeyStatus})`, async () => {
      await useFake({ invalidKeyStatus });
      const old = fake.seedKey({ name: resendKeyName('Old', secretArn(SECRET_NAME), OLD_VERSION) });
      const current = seedSecret('Current').key;
      const oldValue = holding(old);
      await provider.revoke({
        old: oldValue,
        current: holding(current),
        oldVersionId: OLD_VERSION,
        context: context(),
      });
      expect(fake.keys().map((key) => key.id)).not.toContain(old.id);
      const error = await failure(provider.test({ value: oldValue, context: context() }));
      expect(error).toBeInstanceOf(KeyTestFailedError);
      expect(error.message).toContain(`HTTP ${invalidKeyStatus}`);
      expect(error.message).toContain(old.id);
    });
  }
});

describe('revoke', () => {
  /** A key as the rotation of version `version` of this secret names it. */
  const rotated = (version = OLD_VERSION, base = 'Production') =>
    fake.seedKey({ name: resendKeyName(base, secretArn(SECRET_NAME), version) });

  it("deletes the old version's key (its name carries the marker of this secret and that version), and a second call is fine", async () => {
    const old = rotated();
    const current = fake.seedKey({ name: 'Current' });
    const input = {
      old: holding(old),
      current: holding(current),
      oldVersionId: OLD_VERSION,
      context: context(),
    };
    const first = await revoke(input);
    const second = await revoke(input);
    expect(first).toEqual({ revoked: [old.id], manual: [] });
    expect(second).toEqual({ revoked: [old.id], manual: [] });
    expect(fake.keys().map((k) => k.id)).toEqual([current.id]);
    expect(requestsTo('DELETE', /^\/api-keys\//)[0]?.headers.authorization).toBe(`Bearer ${current.token}`);
    expect(logger.text()).toContain('already deleted');
  });

  it('never deletes another key its api_key_id names: an unproven key is left to a person, by its hint', async () => {
    // This secret's sending key; another application's key, whose id was copied from the wrong row.
    const ours = fake.seedKey({ name: 'web (sending)' });
    const theirs = fake.seedKey({ name: 'billing service' });
    const current = rotated('11111111-2222-4333-8444-555555555555');
    const old = parse({ api_key: ours.token, api_key_id: theirs.id });

    const outcome = await revoke({
      old,
      current: holding(current),
      oldVersionId: OLD_VERSION,
      context: context(),
    });

    expect(outcome).toEqual({
      revoked: [],
      manual: [
        `delete the previous Resend API key …${ours.token.slice(-4)} (api_key_id ${theirs.id}) at resend.com/api-keys once nothing uses it: ` +
          `its name does not end with ${rotationMarker(secretArn(SECRET_NAME), OLD_VERSION)}, the marker of this secret's version ${OLD_VERSION}, ` +
          "so the rotation cannot prove it is that version's key (a key made before this product, or by hand)",
      ],
    });
    expect(keyIds()).toEqual([ours.id, theirs.id, current.id].sort());
    expect(requestsTo('DELETE', /./)).toHaveLength(0);
  });

  it("leaves to a person a key marked for another secret or another version, or when the old version's id is not given", async () => {
    const current = holding(fake.seedKey({ name: 'Current' }));
    const otherSecret = fake.seedKey({
      name: resendKeyName('P', secretArn('production/api-keys/resend-b'), OLD_VERSION),
    });
    const otherVersion = rotated('99999999-8888-4777-8666-555555555555');
    const marked = rotated();
    const outcomes = [
      await revoke({ old: holding(otherSecret), current, oldVersionId: OLD_VERSION, context: context() }),
      await revoke({ old: holding(otherVersion), current, oldVersionId: OLD_VERSION, context: context() }),
      await revoke({ old: holding(marked), current, context: context() }),
    ];
    expect(outcomes.map((outcome) => outcome.revoked)).toEqual([[], [], []]);
    expect(outcomes[2]?.manual[0]).toContain(
      "the revocation was not told which version held it, so it cannot prove the key is this secret's",
    );
    expect(fake.keys()).toHaveLength(4);
  });

  it('leaves to a person an id the account does not list while the old key still works', async () => {
    const old = fake.seedKey({ name: 'Old' });
    const current = holding(fake.seedKey({ name: 'Current' }));
    const outcome = await revoke({
      old: parse({ api_key: old.token, api_key_id: 'd9c1f6e0-0000-4000-8000-000000000000' }),
      current,
      oldVersionId: OLD_VERSION,
      context: context(),
    });
    expect(outcome.revoked).toEqual([]);
    expect(outcome.manual[0]).toContain(
      'the key still works, but the account lists no key with id d9c1f6e0-',
    );
    expect(fake.keys()).toHaveLength(2);
  });

  it('refuses to touch a key any kept version holds (AWSCURRENT, AWSPENDING, AWSPREVIOUS in grace: same id, or same key)', async () => {
    const current = fake.seedKey({ name: 'Current' });
    const pending = rotated();
    const value = holding(current);
    const sameId = await revoke({
      old: parse({ api_key: 're_somethingelse12345', api_key_id: current.id }),
      current: value,
      oldVersionId: OLD_VERSION,
      context: context(),
    });
    const sameKey = await revoke({
      old: parse({ api_key: current.token }),
      current: value,
      context: context(),
    });
    const kept = await revoke({
      old: holding(pending),
      current: value,
      keep: [value, holding(pending, { rotated_at: '2025-06-01T00:00:00Z' })],
      oldVersionId: OLD_VERSION,
      context: context(),
    });
    expect(sameId).toEqual({ revoked: [], manual: [] });
    expect(sameKey).toEqual({ revoked: [], manual: [] });
    expect(kept).toEqual({ revoked: [], manual: [] });
    expect(fake.server.requests).toHaveLength(0);
    expect(keyIds()).toEqual([current.id, pending.id].sort());
  });

  it('returns a reminder with the key hint, and guesses nothing, when the old key has no id', async () => {
    const old = fake.seedKey({ name: 'Old' });
    const current = fake.seedKey({ name: 'Current' });
    const outcome = await revoke({
      old: parse({ api_key: old.token, rotated_at: '2024-01-01T00:00:00Z' }),
      current: holding(current),
      oldVersionId: OLD_VERSION,
      context: context(),
    });
    expect(outcome).toEqual({
      revoked: [],
      manual: [
        `delete the previous Resend API key …${old.token.slice(-4)} (no api_key_id recorded) at resend.com/api-keys`,
      ],
    });
    expect(fake.server.requests).toHaveLength(0);
    expect(fake.keys()).toHaveLength(2);
  });

  it('deletes a sending-only key through the admin secret', async () => {
    const admin = fake.seedKey({ name: 'Key admin' });
    const old = fake.seedKey({
      name: resendKeyName('Mailer', secretArn(SECRET_NAME), OLD_VERSION),
      permission: 'sending_access',
    });
    const current = fake.seedKey({ name: 'Mailer', permission: 'sending_access' });
    const sending = { permission: 'sending_access', admin_secret_id: ADMIN_SECRET };
    const outcome = await revoke({
      old: holding(old, sending),
      current: holding(current, sending),
      oldVersionId: OLD_VERSION,
      context: context({ [ADMIN_SECRET]: { api_key: admin.token } }),
    });
    expect(outcome).toEqual({ revoked: [old.id], manual: [] });
    expect(keyIds()).toEqual([admin.id, current.id].sort());
  });
});

describe('a whole rotation from the seed shape, then the next', () => {
  it('issues, tests, asks for a manual revoke once, then revokes by id', async () => {
    const { key: seeded, secret: seed } = seedSecret('Production');
    const ctx1 = context({}, TOKEN);
    const second = parse({ ...seed, ...(await issue(seed, ctx1)) });
    await provider.test({ value: second, context: ctx1 });
    const firstRevoke = await revoke({ old: seed, current: second, context: ctx1 });
    expect(firstRevoke.revoked).toEqual([]);
    expect(firstRevoke.manual).toHaveLength(1);

    const ctx2 = context({}, NEXT_TOKEN);
    const third = parse({ ...second, ...(await issue(second, ctx2)) });
    expect(third.api_key_name).toBe(`${SECRET_NAME} (rotation ${tagOf(NEXT_TOKEN)})`);
    await provider.test({ value: third, context: ctx2 });
    const secondRevoke = await revoke({ old: second, current: third, oldVersionId: TOKEN, context: ctx2 });
    expect(secondRevoke).toEqual({ revoked: [second.api_key_id], manual: [] });
    expect(keyIds()).toEqual([seeded.id, third.api_key_id].sort());
  });
});

describe('provider failures', () => {
  it('maps 401 to ProviderAuthError', async () => {
    const { secret } = seedSecret();
    fake.failNext({
      status: 401,
      body: {
        statusCode: 401,
        name: 'missing_api_key',
        message: 'Missing API key in the authorization header',
      },
    });
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toContain('HTTP 401 missing_api_key');
  });

  for (const invalidKeyStatus of [403, 400] as const) {
    it(`maps an unknown managing key (HTTP ${invalidKeyStatus}) to ProviderAuthError`, async () => {
      await useFake({ invalidKeyStatus });
      const error = await failure(issue(parse({ api_key: 're_unknownkey1234567890abcdef' })));
      expect(error).toBeInstanceOf(ProviderAuthError);
      expect(error.message).toContain(`HTTP ${invalidKeyStatus}`);
      expect(error.message).not.toContain('re_unknownkey1234567890abcdef');
    });
  }

  it('maps a sending-only managing key to ProviderAuthError saying what to add', async () => {
    const { secret } = seedSecret('Mailer', 'sending_access');
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toContain('restricted_api_key');
    expect(error.message).toContain('admin_secret_id');
  });

  it('retries 429 and succeeds', async () => {
    const { secret } = seedSecret();
    fake.failNext({
      status: 429,
      body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests.' },
      headers: { 'retry-after': '1' },
    });
    const fields = await issue(secret);
    expect(fake.keys().some((k) => k.id === fields.api_key_id)).toBe(true);
    expect(fake.server.requests[0]?.path).toBe('/api-keys');
    expect(fake.server.requests[1]?.path).toBe('/api-keys');
  });

  it('gives up on 429 after the bounded retries with ProviderRateLimitError', async () => {
    const { secret } = seedSecret();
    fake.failNext({ status: 429, body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'x' } }, 10);
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderRateLimitError);
    expect(fake.server.requests).toHaveLength(FAST.attempts);
  });

  it('gives up on 500 after the bounded retries with ProviderUnavailableError', async () => {
    const { secret } = seedSecret();
    fake.failNext(
      { status: 500, body: { statusCode: 500, name: 'internal_server_error', message: 'x' } },
      10,
    );
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(fake.server.requests).toHaveLength(FAST.attempts);
  });

  it('gives up on an unreachable API with ProviderUnavailableError', async () => {
    const { secret } = seedSecret();
    const dead = await startFakeResend();
    await dead.close();
    const unreachable = createResendProvider({ baseUrl: dead.url, retry: FAST });
    const error = await failure(
      unreachable.issue({ current: secret, staged: undefined, keep: [secret], context: context() }),
    );
    expect(error).toBeInstanceOf(ProviderUnavailableError);
  });

  it('maps a malformed list (in cleanup) to ProviderResponseError', async () => {
    const { secret } = seedSecret();
    const fields = await issue(secret);
    fake.failNext({ status: 200, body: { data: 'not a list' } });
    const error = await failure(cleanup(parse({ ...secret, ...fields }), secret));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toContain('data');
  });

  it('maps a create answer without a token to ProviderResponseError (cleanup deletes that key later)', async () => {
    const { secret } = seedSecret();
    fake.loseNextAnswer('POST', { status: 201, body: { id: 'dacf4072-4119-4d88-932f-6202748ac7c8' } });
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toContain('token');
    expect(fake.keys()).toHaveLength(2);
  });

  it('maps a name Resend refuses (422) to ProviderResponseError without the request body', async () => {
    const { secret } = seedSecret();
    fake.failNext({
      status: 422,
      body: { statusCode: 422, name: 'validation_error', message: 'The `name` field is invalid.' },
    });
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toContain('HTTP 422 validation_error');
  });
});
