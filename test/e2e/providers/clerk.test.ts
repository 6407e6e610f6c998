import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KeyTestFailedError,
  ProviderUnavailableError,
  StagedValueMissingError,
} from '../../../shared/api-keys/errors.js';
import type { RetryPolicy } from '../../../shared/api-keys/http.js';
import type { ApiKeyProvider } from '../../../shared/api-keys/provider.js';
import {
  ClerkInstanceMismatchError,
  type ClerkSecret,
  createClerkProvider,
  parsePublishableKey,
} from '../../../shared/api-keys/providers/clerk/index.js';
import { MalformedSecretError } from '../../../shared/rotation/errors.js';
import type { SecretFields } from '../../../shared/rotation/strategy.js';
import { type FakeClerk, startFakeClerk } from '../../support/fakes/clerk-server.js';
import { RecordingLogger } from '../../support/fakes.js';
import { providerContext, Seen } from '../../support/provider-tests.js';

const SECRET_NAME = 'production/api-keys/clerk';
const TOKEN = '5d4c3b2a-1908-4f7e-8d6c-5b4a39281706';
const FAST: RetryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2000 };

const OLD_SECRET = 'sk_live_OLDoldOLDoldOLDoldOLDoldOLDoldOLDold1a2b';
const NEW_SECRET = 'sk_live_NEWnewNEWnewNEWnewNEWnewNEWnewNEWnew9z8y';
const TEST_SECRET = 'sk_test_TESTtestTESTtestTESTtestTESTtestTEST7x6w';
const publishable = (mode: 'live' | 'test', host: string) =>
  `pk_${mode}_${Buffer.from(`${host}$`).toString('base64')}`;
const PUBLISHABLE = publishable('live', 'clerk.acme.example');

let clerk: FakeClerk;
let provider: ApiKeyProvider<ClerkSecret>;
let logger: RecordingLogger;
let seen: Seen;

beforeEach(async () => {
  clerk = await startFakeClerk();
  clerk.setSecretKeys([OLD_SECRET, NEW_SECRET], 'clerk.acme.example');
  provider = createClerkProvider({ apiUrl: clerk.url, retry: FAST });
  logger = new RecordingLogger();
  seen = new Seen(logger);
});

afterEach(async () => {
  // No secret key may appear in a log line, an error or a returned reminder.
  const leaks = seen.leaks([OLD_SECRET, NEW_SECRET, TEST_SECRET, ...clerk.secretKeys()]);
  await clerk.close();
  expect(leaks).toEqual([]);
});

const context = () => providerContext({ secretName: SECRET_NAME, token: TOKEN, logger });

function parse(fields: SecretFields): ClerkSecret {
  return provider.schema.parse(fields);
}

/** The seed's shape. */
const current = () =>
  parse({ secret_key: OLD_SECRET, publishable_key: PUBLISHABLE, rotated_at: '2024-01-01T00:00:00Z' });

async function issue(staged: SecretFields | undefined) {
  const value = current();
  return provider.issue({ current: value, staged, keep: [value], context: context() });
}

const failure = (promise: Promise<unknown>) => seen.failure(promise);

describe('Clerk secret schema', () => {
  it('accepts the seed shape and keeps unknown fields', () => {
    expect(current().rotated_at).toBe('2024-01-01T00:00:00Z');
  });

  it('reads a publishable key: prefix, then the base64 of the Frontend API host and "$"', () => {
    expect(parsePublishableKey(PUBLISHABLE)).toEqual({ mode: 'live', frontendApi: 'clerk.acme.example' });
    expect(parsePublishableKey('pk_test_Y2xlcmsuZXhhbXBsZS5jb20k')).toEqual({
      mode: 'test',
      frontendApi: 'clerk.example.com',
    });
    // Unpadded base64, as Clerk's development instances have.
    expect(parsePublishableKey('pk_test_cHJlcGFyZWQtcm9kZW50LTUyLmNsZXJrLmFjY291bnRzLmRldiQ')).toEqual({
      mode: 'test',
      frontendApi: 'prepared-rodent-52.clerk.accounts.dev',
    });
    // Anything after the "$" is refused.
    expect(parsePublishableKey('pk_test_Y2xlcmsuZXhhbXBsZS5jb20kYQ')).toBeUndefined();
  });

  it.each([
    ['a secret key in its place', OLD_SECRET],
    ['an unknown prefix', `pk_prod_${Buffer.from('clerk.acme.example$').toString('base64')}`],
    ['base64 without the closing "$"', `pk_live_${Buffer.from('clerk.acme.example').toString('base64')}`],
    ['base64 of something that is not a host', `pk_live_${Buffer.from('not a host!$').toString('base64')}`],
    ['no base64 at all', 'pk_live_!!!!'],
    ['the placeholder of the seed', 'pk_live_xxxxxxxxxxxxx'],
  ])('refuses a publishable key with %s, never echoing it', (_, value) => {
    const result = provider.schema.safeParse({ secret_key: NEW_SECRET, publishable_key: value });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['publishable_key']);
    expect(JSON.stringify(result.error?.issues)).not.toContain(value);
  });

  it('refuses a secret key that is not sk_live_/sk_test_, and keys of different modes', () => {
    const result = provider.schema.safeParse({
      secret_key: 'rk_live_abcdefghijkl',
      publishable_key: PUBLISHABLE,
    });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['secret_key']);
    const mixed = provider.schema.safeParse({ secret_key: TEST_SECRET, publishable_key: PUBLISHABLE });
    expect(mixed.error?.issues[0]).toMatchObject({
      path: ['publishable_key'],
      message: 'is a live key but secret_key is a test key',
    });
  });
});

describe('registration', () => {
  it('is the provider named clerk, rotating the secret key from a staged value', () => {
    // The registry holds providers of any secret shape.
    const generic: ApiKeyProvider = provider;
    expect(generic.name).toBe('clerk');
    expect(generic.stagedFields).toEqual(['secret_key']);
  });
});

describe('issue', () => {
  it("takes the staged secret key once the Backend API shows it is the publishable key's instance, and carries the publishable key over", async () => {
    const fields = await issue({ secret_key: NEW_SECRET });
    expect(fields).toEqual({ secret_key: NEW_SECRET });
    expect(clerk.server.requests.map((request) => [request.method, request.path])).toEqual([
      ['GET', '/v1/domains'],
    ]);
    expect(clerk.server.requests[0]?.headers.authorization).toBe(`Bearer ${NEW_SECRET}`);
  });

  it('takes a staged publishable key with the secret key of its instance', async () => {
    const moved = publishable('live', 'clerk.acme-new.example');
    const movedSecret = 'sk_live_MOVEDmovedMOVEDmovedMOVEDmovedMOVED5t4r';
    clerk.addInstance('clerk.acme-new.example', [movedSecret]);
    const fields = await issue({ secret_key: movedSecret, publishable_key: moved });
    expect(fields).toEqual({ secret_key: movedSecret, publishable_key: moved });
  });

  it("refuses a staged secret key of another instance than the publishable key's, naming the field and both hosts", async () => {
    // The shop's instance (clerk.acme.example) and the blog's, both live: the operator staged the blog's key.
    const blogKey = `sk_live_${'B'.repeat(40)}`;
    clerk.addInstance('clerk.blog.example', [blogKey]);

    const error = await failure(issue({ secret_key: blogKey }));

    expect(error).toBeInstanceOf(ClerkInstanceMismatchError);
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect((error as MalformedSecretError).fields).toEqual(['secret_key']);
    expect(error.message).toBe(
      `the STAGED value of secret ${SECRET_NAME} is not usable: secret_key belongs to another Clerk instance than publishable_key: ` +
        "the publishable key names the Frontend API clerk.acme.example, while the secret key's instance serves clerk.blog.example. " +
        'Stage the secret key of the instance whose publishable key the secret holds (Clerk dashboard → that application → API keys), ' +
        "or stage that instance's publishable_key with it",
    );
    // A staged publishable key of the shop's instance with the blog's secret key is refused too.
    const mixed = await failure(issue({ secret_key: blogKey, publishable_key: PUBLISHABLE }));
    expect(mixed).toBeInstanceOf(ClerkInstanceMismatchError);
  });

  it('refuses a staged secret key the Backend API does not accept, before it is stored', async () => {
    const unknown = 'sk_live_UNKNOWNunknownUNKNOWNunknownUNKNOWN3e2w';
    const error = await failure(issue({ secret_key: unknown }));
    expect(error).toBeInstanceOf(KeyTestFailedError);
    expect(error.message).toContain('HTTP 401 clerk_key_invalid');
  });

  it('without a staged secret key says exactly what to run', async () => {
    for (const staged of [undefined, { publishable_key: PUBLISHABLE }]) {
      const error = await failure(issue(staged));
      expect(error).toBeInstanceOf(StagedValueMissingError);
      expect(error.message).toContain(
        `\`aws secretsmanager put-secret-value --secret-id ${SECRET_NAME} --secret-string file://new-key.json --version-stages STAGED\``,
      );
      expect(error.message).toContain('{"secret_key": "<new value>"}');
    }
  });

  it('refuses a staged secret key of the other mode', async () => {
    const error = await failure(issue({ secret_key: TEST_SECRET }));
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect((error as MalformedSecretError).fields).toEqual(['secret_key']);
    expect(error.message).toContain("is a test key but AWSCURRENT's is a live key");
  });

  it('refuses a staged secret key that is not a Clerk secret key', async () => {
    for (const secret_key of ['pk_live_abcdefghijklmnop', 42, '']) {
      const error = await failure(issue({ secret_key }));
      expect(error).toBeInstanceOf(MalformedSecretError);
      expect((error as MalformedSecretError).fields).toEqual(['secret_key']);
    }
  });

  it('refuses a malformed staged publishable key, or one of the other mode', async () => {
    for (const publishable_key of ['pk_live_xxxxxxxxxxxxx', publishable('test', 'clerk.acme.example')]) {
      const error = await failure(issue({ secret_key: NEW_SECRET, publishable_key }));
      expect(error).toBeInstanceOf(MalformedSecretError);
      expect((error as MalformedSecretError).fields).toEqual(['publishable_key']);
    }
  });
});

describe('test', () => {
  it("passes when the Backend API accepts the new secret key, for the publishable key's instance", async () => {
    const value = parse({ ...current(), secret_key: NEW_SECRET });
    await provider.test({ value, context: context() });
    expect(clerk.server.requests.map((request) => request.path)).toEqual(['/v1/domains', '/v1/users/count']);
    for (const request of clerk.server.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${NEW_SECRET}`);
    }
  });

  it('fails for a secret key of another instance than the publishable key names', async () => {
    const blogKey = `sk_live_${'b'.repeat(40)}`;
    clerk.addInstance('clerk.blog.example', [blogKey]);
    const value = parse({ ...current(), secret_key: blogKey });
    const error = await failure(provider.test({ value, context: context() }));
    expect(error).toBeInstanceOf(ClerkInstanceMismatchError);
    expect(error.message).toContain(`secret ${SECRET_NAME}: secret_key belongs to another Clerk instance`);
  });

  it('fails with KeyTestFailedError when the Backend API answers 401', async () => {
    clerk.setSecretKeys([OLD_SECRET], 'clerk.acme.example');
    const value = parse({ ...current(), secret_key: NEW_SECRET });
    const error = await failure(provider.test({ value, context: context() }));
    expect(error).toBeInstanceOf(KeyTestFailedError);
    expect(error.message).toContain('HTTP 401 clerk_key_invalid');
  });

  it('gives up on 5xx after the bounded retries with ProviderUnavailableError', async () => {
    clerk.server.failNext({ status: 502, body: 'bad gateway' }, 10);
    const value = parse({ ...current(), secret_key: NEW_SECRET });
    const error = await failure(provider.test({ value, context: context() }));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(clerk.server.requests).toHaveLength(FAST.attempts);
  });
});

describe('revoke', () => {
  it('reminds the operator to delete the previous key in the dashboard, by its hint', async () => {
    const old = current();
    const now = parse({ ...old, secret_key: NEW_SECRET });
    const outcome = await provider.revoke({ old, current: now, context: context() });
    expect(outcome).toEqual({
      revoked: [],
      manual: ['delete the previous Clerk secret key …1a2b in the Clerk dashboard (API keys)'],
    });
    seen.outputs.push(outcome);
  });

  it('has nothing to do when a kept version (AWSPENDING, AWSPREVIOUS in its grace period) still holds the old key', async () => {
    const old = current();
    const now = parse({ ...old, secret_key: NEW_SECRET });
    const outcome = await provider.revoke({ old, current: now, keep: [now, old], context: context() });
    expect(outcome).toEqual({ revoked: [], manual: [] });
  });

  it('has nothing to do when the old secret key is the current one', async () => {
    const outcome = await provider.revoke({ old: current(), current: current(), context: context() });
    expect(outcome).toEqual({ revoked: [], manual: [] });
  });
});
