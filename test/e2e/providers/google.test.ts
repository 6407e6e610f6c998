import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CredentialSecretRefusedError,
  KeyTestFailedError,
  ProviderAuthError,
  ProviderResponseError,
  ProviderUnavailableError,
} from '../../../shared/api-keys/errors.js';
import { keyHint, type RetryPolicy } from '../../../shared/api-keys/http.js';
import type { ApiKeyProvider } from '../../../shared/api-keys/provider.js';
import {
  CLOUD_PLATFORM_SCOPE,
  createGoogleProvider,
  type GoogleProviderOptions,
  type GoogleSecret,
  safeBrowsingKeyId,
} from '../../../shared/api-keys/providers/google/index.js';
import { MalformedSecretError } from '../../../shared/rotation/errors.js';
import type { SecretFields } from '../../../shared/rotation/strategy.js';
import {
  type FakeGoogle,
  type FakeServiceAccountJson,
  startFakeGoogle,
} from '../../support/fakes/google-server.js';
import { RecordingLogger } from '../../support/fakes.js';
import { providerContext, Seen, secretArn } from '../../support/provider-tests.js';

const SECRET_NAME = 'production/api-keys/google';
const SECRET_ARN = secretArn(SECRET_NAME);
const SA_SECRET = 'production/rotation/google-service-account';
const PROJECT = 'acme-web-prod';
/** A Secrets Manager ClientRequestToken (a UUID). */
const TOKEN = '8c1e5a2f-4b3d-4e6f-9a7b-1c2d3e4f5a6b';
const NEXT_TOKEN = '0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b';
/** The id of the key the rotation with TOKEN creates for SECRET_NAME. */
const KEY_ID = safeBrowsingKeyId(SECRET_ARN, TOKEN);
const OLD_RECAPTCHA = '6LeOLDoldOLDoldOLDoldOLDoldOLDoldOLDold1';
const NEW_RECAPTCHA = '6LeNEWnewNEWnewNEWnewNEWnewNEWnewNEWnew2';
const RESTRICTIONS = {
  apiTargets: [{ service: 'safebrowsing.googleapis.com' }],
  serverKeyRestrictions: { allowedIps: ['203.0.113.0/24'] },
};
const FAST: RetryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2000 };

let google: FakeGoogle;
let provider: ApiKeyProvider<GoogleSecret>;
let logger: RecordingLogger;
let account: FakeServiceAccountJson;
/** Every error a test caught and every value a provider returned except issued keys: scanned for keys. */
let seen: Seen;
/** Secrets a test made up that the fake does not know of: scanned for as well. */
let extraSecrets: string[];

function newProvider(options: Partial<GoogleProviderOptions> = {}): ApiKeyProvider<GoogleSecret> {
  return createGoogleProvider({
    apiKeysUrl: google.apiKeysUrl,
    safeBrowsingUrl: google.safeBrowsingUrl,
    recaptchaVerifyUrl: google.recaptchaVerifyUrl,
    retry: FAST,
    operationPollMs: 1,
    operationTimeoutMs: 2000,
    keyPropagation: { attempts: 3, delayMs: 1 },
    ...options,
  });
}

beforeEach(async () => {
  google = await startFakeGoogle();
  logger = new RecordingLogger();
  seen = new Seen(logger);
  extraSecrets = [];
  account = google.registerServiceAccount({ projectId: PROJECT });
  google.setRecaptchaSecrets([OLD_RECAPTCHA, NEW_RECAPTCHA]);
  provider = newProvider();
});

afterEach(async () => {
  // No key, private key, access token or reCAPTCHA secret may appear in a log line, an
  // error or a returned value other than the fields issue returns.
  const leaks = seen.leaks([...google.secrets(), ...extraSecrets]);
  await google.close();
  expect(leaks).toEqual([]);
});

function context(current: SecretFields, token = TOKEN, serviceAccount: SecretFields = account) {
  return providerContext({
    secretName: SECRET_NAME,
    token,
    logger,
    secrets: { [SA_SECRET]: serviceAccount, [SECRET_ARN]: current, [SECRET_NAME]: current },
  });
}

function parse(fields: SecretFields): GoogleSecret {
  return provider.schema.parse(fields);
}

/** A rotated secret: the current key has an id and restrictions, a service account manages it. */
function rotatedSecret() {
  const key = google.seedKey({
    projectId: PROJECT,
    displayName: 'Safe Browsing (web)',
    restrictions: RESTRICTIONS,
  });
  const secret = parse({
    safe_browsing_api_key: key.keyString,
    safe_browsing_api_key_id: key.name,
    recaptcha_secret_key: OLD_RECAPTCHA,
    service_account_secret_id: SA_SECRET,
    rotated_at: '2025-03-01T00:00:00Z',
  });
  return { key, secret };
}

/** The seed's shape (no key id) plus the service account that rotation needs. */
function seedSecret() {
  const key = google.seedKey({ projectId: PROJECT, displayName: 'API key 1' });
  const secret = parse({
    safe_browsing_api_key: key.keyString,
    recaptcha_secret_key: OLD_RECAPTCHA,
    service_account_secret_id: SA_SECRET,
    rotated_at: '2024-01-01T00:00:00Z',
  });
  return { key, secret };
}

async function issue(current: GoogleSecret, options: { staged?: SecretFields; token?: string } = {}) {
  const fields = await provider.issue({
    current,
    staged: options.staged,
    keep: [current],
    context: context(current, options.token ?? TOKEN),
  });
  seen.outputs.push({ ...fields, safe_browsing_api_key: undefined, recaptcha_secret_key: undefined });
  return fields;
}

/** The pending value the engine would store: AWSCURRENT's fields with the issued ones. */
function pending(current: GoogleSecret, fields: SecretFields): GoogleSecret {
  return parse({ ...current, ...fields });
}

const failure = (promise: Promise<unknown>) => seen.failure(promise);

const warnings = () => logger.lines.filter((line) => line.level === 'warn').map((line) => line.message);

describe('Google secret schema', () => {
  it('accepts the seed shape and keeps unknown fields', () => {
    const value = parse({
      safe_browsing_api_key: 'AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      recaptcha_secret_key: '6LeXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      rotated_at: '2024-01-01T00:00:00Z',
    });
    expect(value.rotated_at).toBe('2024-01-01T00:00:00Z');
  });

  it('names each bad field and never echoes a value', () => {
    const result = provider.schema.safeParse({
      safe_browsing_api_key: 'AIzaSyLEAKLEAKLEAK',
      safe_browsing_api_key_id: 'keys/AIzaSyLEAKLEAKLEAK',
      google_project: 'Not A Project!',
    });
    expect(result.success).toBe(false);
    const issues = result.error?.issues ?? [];
    expect(issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'google_project',
      'recaptcha_secret_key',
      'safe_browsing_api_key_id',
    ]);
    expect(JSON.stringify(issues.map((issue) => issue.message))).not.toMatch(/LEAK|Not A Project/);
  });
});

describe('registration', () => {
  it('is the provider named google, rotating the reCAPTCHA secret from a staged value', () => {
    // The registry holds providers of any secret shape.
    const generic: ApiKeyProvider = provider;
    expect(generic.name).toBe('google');
    expect(generic.stagedFields).toEqual(['recaptcha_secret_key']);
  });
});

describe('key ids', () => {
  it("are sb- and 24 hex digits of SHA-256 over the secret's ARN and the token, as the API Keys API allows", () => {
    expect(KEY_ID).toBe(
      `sb-${createHash('sha256').update(`${SECRET_ARN}\n${TOKEN}`).digest('hex').slice(0, 24)}`,
    );
    for (const token of [TOKEN, 'short-token', 'A_B_C'.repeat(10)])
      expect(safeBrowsingKeyId(SECRET_ARN, token)).toMatch(/^sb-[0-9a-f]{24}$/);
  });

  it('are the same for every attempt of a rotation, and differ for another secret or token', () => {
    expect(safeBrowsingKeyId(SECRET_ARN, TOKEN)).toBe(KEY_ID);
    expect(safeBrowsingKeyId(secretArn('production/api-keys/google-maps'), TOKEN)).not.toBe(KEY_ID);
    expect(safeBrowsingKeyId(SECRET_ARN, NEXT_TOKEN)).not.toBe(KEY_ID);
  });
});

describe('issue', () => {
  it("creates a key with the token's id, copying the old key's restrictions, with a service-account token", async () => {
    const { key: old, secret } = rotatedSecret();
    const fields = await issue(secret, { staged: { recaptcha_secret_key: NEW_RECAPTCHA } });
    const created = google.keys().find((key) => key.name === fields.safe_browsing_api_key_id);
    expect(created).toMatchObject({
      keyId: KEY_ID,
      keyString: fields.safe_browsing_api_key,
      restrictions: RESTRICTIONS,
      displayName: `Safe Browsing (web) (rotation ${KEY_ID})`,
    });
    expect(fields).toEqual({
      safe_browsing_api_key: created?.keyString,
      safe_browsing_api_key_id: expect.stringMatching(
        new RegExp(`^projects/\\d+/locations/global/keys/${KEY_ID}$`),
      ),
      recaptcha_secret_key: NEW_RECAPTCHA,
    });
    expect(google.keys().find((key) => key.name === old.name)?.deleteTime).toBeUndefined(); // the old key stays valid
    expect(google.calls('operation')).toBe(1); // waited for the long-running operation
    expect(google.assertions()).toHaveLength(1);
    expect(google.assertions()[0]?.claims).toMatchObject({
      iss: account.client_email,
      scope: CLOUD_PLATFORM_SCOPE,
      aud: google.tokenUri,
    });
  });

  it('twice with the same token creates one key: the 409 of the retry reuses it', async () => {
    const { secret } = rotatedSecret();
    const first = await issue(secret);
    const second = await issue(secret);
    expect(second).toEqual(first);
    expect(google.calls('createKey')).toBe(2);
    expect(google.keys()).toHaveLength(2); // the old key and one new key
    expect(logger.lines.map((line) => line.message)).toContain(
      'reusing the Safe Browsing key of an earlier attempt of this rotation',
    );
  });

  it('takes a staged reCAPTCHA secret', async () => {
    const { secret } = rotatedSecret();
    const fields = await issue(secret, { staged: { recaptcha_secret_key: NEW_RECAPTCHA } });
    expect(fields.recaptcha_secret_key).toBe(NEW_RECAPTCHA);
    expect(warnings()).toEqual([]);
  });

  it('without a staged value carries the reCAPTCHA secret over and warns', async () => {
    const { secret } = rotatedSecret();
    const fields = await issue(secret);
    expect(fields).not.toHaveProperty('recaptcha_secret_key');
    expect(pending(secret, fields).recaptcha_secret_key).toBe(OLD_RECAPTCHA);
    expect(warnings()).toEqual(['recaptcha secret not rotated: no staged value']);
  });

  it('refuses a staged reCAPTCHA secret that is not a string, naming the field, before any request', async () => {
    const { secret } = rotatedSecret();
    const error = await failure(issue(secret, { staged: { recaptcha_secret_key: ['6Le'] } }));
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect((error as MalformedSecretError).fields).toEqual(['recaptcha_secret_key']);
    expect(google.server.requests).toHaveLength(0); // checked before anything is created
  });

  it("from the seed shape, restricts the new key to Safe Browsing in the service account's project", async () => {
    const { secret } = seedSecret();
    const fields = await issue(secret);
    const created = google.keys().find((key) => key.name === fields.safe_browsing_api_key_id);
    expect(created?.restrictions).toEqual({ apiTargets: [{ service: 'safebrowsing.googleapis.com' }] });
    expect(created?.displayName).toBe(`Safe Browsing (rotation ${KEY_ID})`);
    expect(google.calls('getKey')).toBe(0);
  });

  it('keeps the display name within 63 characters and replaces an earlier rotation suffix', async () => {
    const key = google.seedKey({
      projectId: PROJECT,
      keyId: safeBrowsingKeyId(SECRET_ARN, NEXT_TOKEN),
      displayName: `${'Marketing site Safe Browsing lookups'} (rotation ${safeBrowsingKeyId(SECRET_ARN, NEXT_TOKEN)})`,
    });
    const secret = parse({
      safe_browsing_api_key: key.keyString,
      safe_browsing_api_key_id: key.name,
      recaptcha_secret_key: OLD_RECAPTCHA,
      service_account_secret_id: SA_SECRET,
    });
    const fields = await issue(secret);
    const created = google.keys().find((k) => k.name === fields.safe_browsing_api_key_id);
    expect(created?.displayName).toBe(`Marketing site Safe Brow (rotation ${KEY_ID})`);
    expect(created?.displayName.length).toBe(63);
  });

  it('reuses the access token until shortly before it expires', async () => {
    const { secret } = rotatedSecret();
    await issue(secret);
    await issue(secret, { token: NEXT_TOKEN });
    expect(google.calls('token')).toBe(1);
  });

  it('gets a new access token when the cached one is about to expire', async () => {
    google.setAccessTokenTtl(30);
    const { secret } = rotatedSecret();
    await issue(secret);
    await issue(secret, { token: NEXT_TOKEN });
    expect(google.calls('token')).toBe(2);
  });

  it('refuses a secret without service_account_secret_id, naming the field, before any request', async () => {
    const { secret } = rotatedSecret();
    const { service_account_secret_id: _, ...without } = secret;
    const error = await failure(issue(parse(without)));
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect((error as MalformedSecretError).fields).toEqual(['service_account_secret_id']);
    expect(google.server.requests).toHaveLength(0);
  });

  it('refuses a service-account secret that is not a service-account key, naming its fields', async () => {
    const { secret } = rotatedSecret();
    const broken = { ...account, private_key: 'not a pem', client_email: 'nobody' };
    const error = await failure(
      provider.issue({
        current: secret,
        staged: undefined,
        keep: [secret],
        context: context(secret, TOKEN, broken),
      }),
    );
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect([...(error as MalformedSecretError).fields].sort()).toEqual(['client_email', 'private_key']);
    expect(error.message).toContain(SA_SECRET);
  });
});

describe('keys of other secrets and other rotations', () => {
  it("gives two secrets rotated with the same token a key each: neither reuses the other's", async () => {
    const a = rotatedSecret();
    const b = rotatedSecret();
    const otherName = 'production/api-keys/google-maps';
    const fieldsA = await issue(a.secret);
    const fieldsB = await provider.issue({
      current: b.secret,
      staged: undefined,
      keep: [b.secret],
      context: providerContext({
        secretName: otherName,
        token: TOKEN,
        logger,
        secrets: { [SA_SECRET]: account, [secretArn(otherName)]: b.secret },
      }),
    });
    seen.outputs.push({ ...fieldsB, safe_browsing_api_key: undefined });

    expect(fieldsB.safe_browsing_api_key_id).not.toBe(fieldsA.safe_browsing_api_key_id);
    expect(fieldsB.safe_browsing_api_key).not.toBe(fieldsA.safe_browsing_api_key);
    expect(String(fieldsB.safe_browsing_api_key_id)).toMatch(
      new RegExp(`/keys/${safeBrowsingKeyId(secretArn(otherName), TOKEN)}$`),
    );
    expect(logger.text()).not.toContain('reusing');
    // B's later revocation of its previous key never reaches A's key.
    const currentB = pending(b.secret, fieldsB);
    await provider.revoke({ old: b.secret, current: currentB, context: context(currentB) });
    const live = google
      .keys()
      .filter((key) => !key.deleteTime)
      .map((key) => key.name);
    expect(live).toEqual(expect.arrayContaining([String(fieldsA.safe_browsing_api_key_id), a.key.name]));
    expect(live).not.toContain(b.key.name);
  });

  it('refuses to reuse a key holding its id whose display name lacks the rotation marker', async () => {
    const { secret } = rotatedSecret();
    google.seedKey({ projectId: PROJECT, keyId: KEY_ID, displayName: 'Made by hand' });
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toContain(`id ${KEY_ID} is taken in project`);
    expect(error.message).toContain(`does not end with "(rotation ${KEY_ID})"`);
    expect(error.message).toContain('nothing was reused');
    expect(google.calls('keyString')).toBe(0);
  });

  it('refuses, saying why, when its id is taken by a key that cannot be read', async () => {
    const { secret } = rotatedSecret();
    const taken = google.seedKey({
      projectId: PROJECT,
      keyId: KEY_ID,
      displayName: `x (rotation ${KEY_ID})`,
    });
    google.deleteKey(taken.name);
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toContain(
      'cannot be read: another attempt of this rotation may still be creating it',
    );
    expect(google.calls('keyString')).toBe(0);
  });
});

describe('test', () => {
  it('passes for a new key and a new reCAPTCHA secret, checking both', async () => {
    const { secret } = rotatedSecret();
    const fields = await issue(secret, { staged: { recaptcha_secret_key: NEW_RECAPTCHA } });
    await provider.test({ value: pending(secret, fields), context: context(secret) });
    expect(google.calls('safeBrowsing')).toBe(1);
    expect(google.calls('siteverify')).toBe(1);
    const lookup = google.server.requests.find((request) => request.path === '/v4/threatMatches:find');
    expect(lookup?.query.has('key')).toBe(false); // the key travels in a header, never in a URL
  });

  it('waits for a new key to propagate, a bounded number of times', async () => {
    const { secret } = rotatedSecret();
    const fields = await issue(secret);
    google.setPropagationLag(2);
    await provider.test({ value: pending(secret, fields), context: context(secret) });
    expect(google.calls('safeBrowsing')).toBe(3);
  });

  it('treats an error that only says "API key not valid" as a key still propagating', async () => {
    const { secret } = rotatedSecret();
    const fields = await issue(secret);
    google.failNext('safeBrowsing', {
      status: 400,
      body: {
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          status: 'INVALID_ARGUMENT',
        },
      },
    });
    await provider.test({ value: pending(secret, fields), context: context(secret) });
    expect(google.calls('safeBrowsing')).toBe(2);
  });

  it('maps another 400 from Safe Browsing to ProviderResponseError, without waiting', async () => {
    const { secret } = rotatedSecret();
    const fields = await issue(secret);
    google.failNext('safeBrowsing', {
      status: 400,
      body: { error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' } },
    });
    const error = await failure(provider.test({ value: pending(secret, fields), context: context(secret) }));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toContain('HTTP 400 INVALID_ARGUMENT');
    expect(google.calls('safeBrowsing')).toBe(1);
  });

  it('does not verify a reCAPTCHA secret carried over unchanged', async () => {
    const { secret } = rotatedSecret();
    const fields = await issue(secret);
    await provider.test({ value: pending(secret, fields), context: context(secret) });
    expect(google.calls('siteverify')).toBe(0);
  });

  it('fails with KeyTestFailedError for a deleted key, after the bounded attempts', async () => {
    const { secret } = rotatedSecret();
    const fields = await issue(secret);
    google.deleteKey(String(fields.safe_browsing_api_key_id));
    const error = await failure(provider.test({ value: pending(secret, fields), context: context(secret) }));
    expect(error).toBeInstanceOf(KeyTestFailedError);
    expect(error.message).toContain('API_KEY_INVALID');
    expect(google.calls('safeBrowsing')).toBe(3);
  });

  it('fails with KeyTestFailedError for a key whose restrictions block Safe Browsing, without waiting', async () => {
    const key = google.seedKey({
      projectId: PROJECT,
      restrictions: { apiTargets: [{ service: 'maps-backend.googleapis.com' }] },
    });
    const value = parse({
      safe_browsing_api_key: key.keyString,
      safe_browsing_api_key_id: key.name,
      recaptcha_secret_key: OLD_RECAPTCHA,
    });
    const error = await failure(provider.test({ value, context: context(value) }));
    expect(error).toBeInstanceOf(KeyTestFailedError);
    expect(error.message).toContain('API_KEY_SERVICE_BLOCKED');
    expect(google.calls('safeBrowsing')).toBe(1);
  });

  it('fails with KeyTestFailedError for an invalid reCAPTCHA secret', async () => {
    const { secret } = rotatedSecret();
    const wrong = '6LeWRONGwrongWRONGwrongWRONGwrongWRONGwr';
    extraSecrets.push(wrong);
    const fields = await issue(secret, { staged: { recaptcha_secret_key: wrong } });
    const error = await failure(provider.test({ value: pending(secret, fields), context: context(secret) }));
    expect(error).toBeInstanceOf(KeyTestFailedError);
    expect(error.message).toContain('invalid-input-secret');
  });
});

describe('revoke', () => {
  it('deletes the old key by id, and a second call is fine', async () => {
    const { key: old, secret } = rotatedSecret();
    const current = pending(secret, await issue(secret));
    const first = await provider.revoke({ old: secret, current, context: context(current) });
    expect(first).toEqual({ revoked: [old.name], manual: [] });
    expect(google.keys().find((key) => key.name === old.name)?.deleteTime).toBeDefined();
    expect(
      google.keys().find((key) => key.name === current.safe_browsing_api_key_id)?.deleteTime,
    ).toBeUndefined();
    const second = await provider.revoke({ old: secret, current, context: context(current) });
    expect(second).toEqual({ revoked: [old.name], manual: [] });
    seen.outputs.push(first, second);
  });

  it('never deletes the current key (same id, or same key)', async () => {
    const { secret } = rotatedSecret();
    const sameKey = await provider.revoke({ old: secret, current: secret, context: context(secret) });
    const { safe_browsing_api_key_id: _, ...withoutId } = secret;
    const sameString = await provider.revoke({
      old: parse(withoutId),
      current: secret,
      context: context(secret),
    });
    expect(sameKey).toEqual({ revoked: [], manual: [] });
    expect(sameString).toEqual({ revoked: [], manual: [] });
    expect(google.calls('deleteKey')).toBe(0);
    expect(google.keys().every((key) => key.deleteTime === undefined)).toBe(true);
  });

  it("never deletes another key its id field names: the key string must be the old version's", async () => {
    // This secret's key A; another application's key B in the same project. The operator
    // recorded B's id next to A's key string by mistake.
    const keyA = google.seedKey({ projectId: PROJECT, displayName: 'Safe Browsing (web)' });
    const keyB = google.seedKey({ projectId: PROJECT, displayName: 'Mobile app (not this secret)' });
    const old = parse({
      safe_browsing_api_key: keyA.keyString,
      safe_browsing_api_key_id: keyB.name,
      recaptcha_secret_key: OLD_RECAPTCHA,
      service_account_secret_id: SA_SECRET,
    });
    const current = pending(old, await issue(old));

    const outcome = await provider.revoke({
      old,
      current,
      oldVersionId: NEXT_TOKEN,
      context: context(current),
    });

    expect(outcome).toEqual({
      revoked: [],
      manual: [
        `delete the previous Safe Browsing API key ${keyHint(keyA.keyString)} in the Google Cloud console (APIs & Services → Credentials) ` +
          `once nothing uses it: the key ${keyB.name} holds another key string than the previous version's safe_browsing_api_key, ` +
          "so the rotation cannot prove it is that version's key (check safe_browsing_api_key_id)",
      ],
    });
    const deleted = google
      .keys()
      .filter((key) => key.deleteTime)
      .map((key) => key.name);
    expect(deleted).toEqual([]);
    seen.outputs.push(outcome);
  });

  it("deletes a key this secret's rotation of the old version created, by its derived id and display-name marker", async () => {
    const { secret } = rotatedSecret();
    const first = pending(secret, await issue(secret));
    const second = pending(first, await issue(first, { token: NEXT_TOKEN }));
    const keyStrings = google.calls('keyString');

    const outcome = await provider.revoke({
      old: first,
      current: second,
      oldVersionId: TOKEN,
      context: context(second),
    });

    expect(outcome).toEqual({ revoked: [first.safe_browsing_api_key_id], manual: [] });
    expect(google.calls('keyString')).toBe(keyStrings); // the marker proved it: no key string read
    // Once deleted, the derived id alone says it is gone.
    const again = await provider.revoke({
      old: first,
      current: second,
      oldVersionId: TOKEN,
      context: context(second),
    });
    expect(again).toEqual(outcome);
  });

  it('leaves to a person an id that names no key while the old key still works', async () => {
    const { key, secret } = rotatedSecret();
    const old = parse({
      ...secret,
      safe_browsing_api_key_id: `projects/${PROJECT}/locations/global/keys/no-such-key`,
    });
    const current = pending(secret, await issue(secret));
    const outcome = await provider.revoke({
      old,
      current,
      oldVersionId: NEXT_TOKEN,
      context: context(current),
    });
    expect(outcome.revoked).toEqual([]);
    expect(outcome.manual[0]).toContain('the key still works, but projects/');
    expect(google.keys().find((candidate) => candidate.name === key.name)?.deleteTime).toBeUndefined();
  });

  it('never deletes a key any kept version holds (AWSPENDING, AWSPREVIOUS in its grace period)', async () => {
    const { key, secret } = rotatedSecret();
    const current = pending(secret, await issue(secret));
    const outcome = await provider.revoke({
      old: secret,
      current,
      keep: [current, parse({ ...secret, rotated_at: '2025-06-01T00:00:00Z' })],
      context: context(current),
    });
    expect(outcome).toEqual({ revoked: [], manual: [] });
    expect(google.calls('deleteKey')).toBe(0);
    expect(google.keys().find((candidate) => candidate.name === key.name)?.deleteTime).toBeUndefined();
  });

  it('refuses a service_account_secret_id outside {environment}/rotation/ before any read or request', async () => {
    const { secret } = rotatedSecret();
    const elsewhere = parse({
      ...secret,
      service_account_secret_id: 'production/api-keys/other-teams-google',
    });
    const ctx = context(elsewhere);
    const read = ctx.readSecret;
    const reads: string[] = [];
    ctx.readSecret = async (id) => {
      reads.push(id);
      return read(id);
    };
    const error = await failure(
      provider.issue({ current: elsewhere, staged: undefined, keep: [elsewhere], context: ctx }),
    );
    expect(error).toBeInstanceOf(CredentialSecretRefusedError);
    expect((error as CredentialSecretRefusedError).fields).toEqual(['service_account_secret_id']);
    expect(error.message).toContain('service_account_secret_id names a secret outside production/rotation/');
    expect(reads).toEqual([]);
    expect(google.server.requests).toHaveLength(0);
  });

  it('returns a reminder naming the key by its hint when the old key has no id', async () => {
    const { key: old, secret } = seedSecret();
    const current = pending(secret, await issue(secret));
    const outcome = await provider.revoke({ old: secret, current, context: context(current) });
    expect(outcome).toEqual({
      revoked: [],
      manual: [
        `delete the previous Safe Browsing API key ${keyHint(old.keyString)} in the Google Cloud console (APIs & Services → Credentials)`,
      ],
    });
    expect(google.calls('deleteKey')).toBe(0);
    seen.outputs.push(outcome);
  });
});

describe('a whole rotation from the seed shape, then the next', () => {
  it('issues, tests, asks for a manual revoke once, then revokes by id', async () => {
    const { secret: seed } = seedSecret();
    const first = pending(seed, await issue(seed, { staged: { recaptcha_secret_key: NEW_RECAPTCHA } }));
    await provider.test({ value: first, context: context(seed) });
    const reminder = await provider.revoke({ old: seed, current: first, context: context(first) });
    expect(reminder.manual).toHaveLength(1);

    const second = pending(first, await issue(first, { token: NEXT_TOKEN }));
    await provider.test({ value: second, context: context(first, NEXT_TOKEN) });
    const revoked = await provider.revoke({
      old: first,
      current: second,
      oldVersionId: TOKEN,
      context: context(second, NEXT_TOKEN),
    });
    expect(revoked).toEqual({ revoked: [first.safe_browsing_api_key_id], manual: [] });
    const secondKey = google.keys().find((key) => key.name === second.safe_browsing_api_key_id);
    expect(secondKey?.restrictions).toEqual({ apiTargets: [{ service: 'safebrowsing.googleapis.com' }] });
    seen.outputs.push(reminder, revoked);
  });
});

describe('provider failures', () => {
  it('maps a 401 from the token endpoint to ProviderAuthError', async () => {
    const { secret } = rotatedSecret();
    google.failNext('token', {
      status: 401,
      body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' },
    });
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toContain('invalid_client');
    expect(google.calls('createKey')).toBe(0);
  });

  it('maps an assertion signed with another key (400 invalid_grant) to ProviderAuthError', async () => {
    const { secret } = rotatedSecret();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    extraSecrets.push(other.toString());
    const forged = { ...account, private_key: other.toString() };
    const error = await failure(
      provider.issue({
        current: secret,
        staged: undefined,
        keep: [secret],
        context: context(secret, TOKEN, forged),
      }),
    );
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).toContain('HTTP 400 invalid_grant');
  });

  it('retries 429 and succeeds', async () => {
    const { secret } = rotatedSecret();
    google.failNext('createKey', {
      status: 429,
      body: { error: { code: 429, message: 'Quota exceeded.', status: 'RESOURCE_EXHAUSTED' } },
    });
    const fields = await issue(secret);
    expect(fields.safe_browsing_api_key_id).toMatch(new RegExp(`${KEY_ID}$`));
    expect(google.calls('createKey')).toBe(2);
  });

  it('gives up on 5xx after the bounded retries with ProviderUnavailableError', async () => {
    const { secret } = rotatedSecret();
    google.failNext('createKey', { status: 503, body: { error: { code: 503, status: 'UNAVAILABLE' } } }, 10);
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(google.calls('createKey')).toBe(FAST.attempts);
  });

  it('maps a malformed answer to ProviderResponseError', async () => {
    const { secret } = rotatedSecret();
    google.failNext('keyString', { status: 200, body: { key: 'no keyString field' } });
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toContain('keyString');
  });

  it('maps a malformed token answer to ProviderResponseError', async () => {
    const { secret } = rotatedSecret();
    google.failNext('token', { status: 200, body: { token_type: 'Bearer' } });
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderResponseError);
  });

  it('gives up on an operation that never finishes with ProviderUnavailableError', async () => {
    provider = newProvider({ operationPollMs: 5, operationTimeoutMs: 50 });
    const { secret } = rotatedSecret();
    google.failNext('operation', { status: 200, body: { name: 'operations/akmf.stuck', done: false } }, 1000);
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toContain('not done after 50 ms');
  });

  it('maps a failed operation to ProviderResponseError with its status', async () => {
    const { secret } = rotatedSecret();
    google.failNext('operation', {
      status: 200,
      body: { name: 'operations/akmf.failed', done: true, error: { code: 8, status: 'RESOURCE_EXHAUSTED' } },
    });
    const error = await failure(issue(secret));
    expect(error).toBeInstanceOf(ProviderResponseError);
    expect(error.message).toContain('RESOURCE_EXHAUSTED');
  });
});
