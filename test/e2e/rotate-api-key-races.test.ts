/**
 * Two attempts of createSecret at once (a Lambda that timed out is still running when Secrets
 * Manager retries), for every provider, through the deployed handler: Secrets Manager, IAM and
 * STS on a private moto with authentication on, Secrets Manager given AWS's PutSecretValue
 * semantics (`withAwsPutSemantics`), the third-party providers on their fakes.
 *
 * moto dates every version at the time of the call; `withAwsVersionDates` answers when it was
 * created, as AWS does (the `aws` provider's orphan proof compares it with IAM's key dates).
 *
 * The race is arranged, not hoped for: each attempt's PutSecretValue is held until the other
 * attempt has reached its own (or ended without one), so both have created their credential
 * before either stores it. The rest of the rotation then runs, and it must end with exactly
 * the old key and the stored new key live at the provider, and no other key.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  CreateSecretCommand,
  type GetSecretValueCommandInput,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateApiKeyHandler } from '../../functions/rotate-api-key/handler.js';
import { createProviders } from '../../shared/api-keys/providers/index.js';
import { loadApiKeyRotationConfig } from '../../shared/config/index.js';
import { refusedWrites, withAwsPutSemantics } from '../support/aws-put-semantics.js';
import {
  captureOutput,
  findLeaks,
  injectFault,
  lambdaContext,
  runSteps,
  stagesOf,
  startRotation,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { type FakeClerk, startFakeClerk } from '../support/fakes/clerk-server.js';
import { type FakeGoogle, startFakeGoogle } from '../support/fakes/google-server.js';
import { type FakeResend, startFakeResend } from '../support/fakes/resend-server.js';
import { withAwsVersionDates } from '../support/fakes/version-dates.js';
import { startMoto } from '../support/local-stack.js';
import { enableMotoAuth } from '../support/moto-auth.js';

const REGION = 'us-east-1';
const _FUNCTION_ARN =
  'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateApiKey';
const FAST_RETRY = { attempts: 2, baseDelayMs: 1, maxDelayMs: 2, timeoutMs: 2000 };
/** How many times each race runs. */
const REPEATS = 5;

let moto: { endpoint: string; stop(): Promise<void> };
let credentials: { accessKeyId: string; secretAccessKey: string };
let resend: FakeResend;
let clerk: FakeClerk;
let google: FakeGoogle;
let sm: SecretsManagerClient;
let iam: IAMClient;
let output: ReturnType<typeof captureOutput>;
let googleAccountSecret = '';
/** Every secret value a test saw, for the leak scan of the captured output. */
const seen: string[] = [];

const awsClient = <T>(Client: new (config: object) => T): T =>
  new Client({ region: REGION, endpoint: moto.endpoint, credentials });

/** The handler as deployed, on a fresh "container", with its own clock and Secrets Manager client. */
function handler(options: { secretsManager?: SecretsManagerClient; now?: () => Date } = {}) {
  const config = loadApiKeyRotationConfig({
    ROTATION_GRACE_PERIOD_SECONDS: '900',
    REVOKE_SCHEDULER_ROLE_NAME: 'revoke-scheduler',
    RESEND_API_URL: resend.url,
    CLERK_API_URL: clerk.url,
    GOOGLE_API_KEYS_URL: google.apiKeysUrl,
    GOOGLE_SAFE_BROWSING_URL: google.safeBrowsingUrl,
    RECAPTCHA_VERIFY_URL: google.recaptchaVerifyUrl,
    IAM_PROPAGATION_ATTEMPTS: '2',
    IAM_PROPAGATION_DELAY_MS: '10',
  });
  return buildRotateApiKeyHandler({
    config,
    secretsManager: options.secretsManager ?? sm,
    logger: new Logger({ serviceName: 'rotate-api-key-races', logLevel: 'DEBUG' }),
    providers: createProviders(config, { retry: FAST_RETRY, iam }),
    schedulerClient: awsClient(SchedulerClient),
    ...(options.now ? { now: options.now } : {}),
  });
}

/**
 * Holds every PutSecretValue of the attempts until each attempt has reached its own or ended
 * without one: then all writes go at once, each having created its credential first.
 */
class Rendezvous {
  readonly #release: () => void;
  readonly #all: Promise<void>;
  #pending: number;

  constructor(parties: number) {
    this.#pending = parties;
    let release = () => {};
    this.#all = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#release = release;
  }

  /** An attempt's arrival, counted once however often it is called. */
  party(): () => Promise<void> {
    let arrived = false;
    return () => {
      if (!arrived) {
        arrived = true;
        if (--this.#pending === 0) this.#release();
      }
      return this.#all;
    };
  }
}

/**
 * A Secrets Manager client with AWS's PutSecretValue semantics whose writes wait at `arrive`;
 * when `second`, its write also waits one turn of the event loop after the rendezvous, so the
 * other attempt's write takes the version first.
 */
function attemptClient(arrive: () => Promise<void>, second: boolean): SecretsManagerClient {
  const client = withAwsVersionDates(withAwsPutSemantics(awsClient(SecretsManagerClient)));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutSecretValueCommand') {
        await arrive();
        if (second) await new Promise((resolve) => setImmediate(resolve));
      }
      return next(args);
    },
    // Outside the put-semantics lock, or the first writer would hold the lock while it waits.
    { step: 'initialize', priority: 'high', name: 'rendezvous' },
  );
  return client;
}

/**
 * Runs two createSecret attempts at once, both writing together, attempt `first` first. The
 * other attempt's clock is `offsetMs` ahead (a Lambda started later stamps another
 * `rotated_at`); `second` is applied to its client. Returns how each attempt ended (its
 * outcome or its error's name, sorted), its errors, and how many writes AWS semantics refused.
 */
async function race(
  arn: string,
  token: string,
  options: { offsetMs: number; first: 0 | 1; second?: (client: SecretsManagerClient) => void },
): Promise<{ endings: string[]; refused: number; errors: unknown[] }> {
  const rendezvous = new Rendezvous(2);
  const before = refusedWrites.count;
  const start = Date.now();
  const attempts = [0, 1].map(async (i) => {
    const arrive = rendezvous.party();
    const isSecond = i !== options.first;
    const client = attemptClient(arrive, isSecond);
    if (isSecond) options.second?.(client);
    const offset = isSecond ? options.offsetMs : 0;
    try {
      const result = await handler({ secretsManager: client, now: () => new Date(start + offset) })(
        { SecretId: arn, ClientRequestToken: token, Step: 'createSecret' },
        lambdaContext,
      );
      return (result as { outcome: string }).outcome;
    } finally {
      await arrive(); // an attempt that ended before writing releases the other
      client.destroy();
    }
  });
  const settled = await Promise.allSettled(attempts);
  const endings = settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).name)).sort();
  const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
  return { endings, refused: refusedWrites.count - before, errors };
}

/** One provider under test. */
interface RaceCase {
  readonly name: 'resend' | 'aws' | 'google' | 'clerk';
  /** Creates the starting key at the provider (and anything staged); returns the secret's value. */
  initial(): Promise<Record<string, unknown>>;
  /** Runs after the secret exists and before the rotation starts (e.g. staging a value). */
  prepare?(arn: string): Promise<void>;
  /** The ids of the keys live at the provider for this secret now. */
  live(): Promise<string[]>;
  /** The id of the key a value holds. */
  keyOf(value: Record<string, unknown>): string;
  /** The secret strings of a value, for the leak scan. */
  secretsOf(value: Record<string, unknown>): string[];
  /** Whether both attempts produce the same credential (then only `rotated_at` can tell them apart). */
  readonly shared: boolean;
}

let resendName = '';
let appUser = '';
let googleName = '';
let clerkKeys: { old: string; staged: string } = { old: '', staged: '' };
const PUBLISHABLE = `pk_live_${Buffer.from('clerk.muejam.example$').toString('base64')}`;

const cases: readonly RaceCase[] = [
  {
    name: 'resend',
    shared: false,
    async initial() {
      resendName = uniqueName('prod');
      const { id, token } = resend.seedKey({ name: resendName, permission: 'full_access' });
      return { api_key: token, api_key_id: id, api_key_name: resendName, rotated_at: '2024-01-01T00:00:00Z' };
    },
    async live() {
      return resend
        .keys()
        .filter((key) => key.name.startsWith(resendName))
        .map((key) => key.id);
    },
    keyOf: (value) => String(value.api_key_id),
    secretsOf: (value) => [String(value.api_key ?? '')],
  },
  {
    name: 'aws',
    shared: false,
    async initial() {
      appUser = uniqueName('app');
      await iam.send(new CreateUserCommand({ UserName: appUser, Path: '/app/' }));
      const out = await iam.send(new CreateAccessKeyCommand({ UserName: appUser }));
      return {
        access_key_id: out.AccessKey?.AccessKeyId,
        secret_access_key: out.AccessKey?.SecretAccessKey,
        rotated_at: '2024-01-01T00:00:00Z',
      };
    },
    async live() {
      // Every key of the user, active or not: an inactive leftover would count too.
      const out = await iam.send(new ListAccessKeysCommand({ UserName: appUser }));
      return (out.AccessKeyMetadata ?? []).map((key) => key.AccessKeyId ?? '');
    },
    keyOf: (value) => String(value.access_key_id),
    secretsOf: (value) => [String(value.secret_access_key ?? '')],
  },
  {
    name: 'google',
    shared: true,
    async initial() {
      googleName = uniqueName('sb');
      const key = google.seedKey({ projectId: 'muejam', displayName: googleName });
      const captcha = `6Le${uniqueName('captcha')}`;
      google.setRecaptchaSecrets([captcha]);
      return {
        safe_browsing_api_key: key.keyString,
        safe_browsing_api_key_id: key.name,
        recaptcha_secret_key: captcha,
        service_account_secret_id: googleAccountSecret,
        rotated_at: '2024-01-01T00:00:00Z',
      };
    },
    async live() {
      return google
        .keys()
        .filter((key) => !key.deleteTime && key.displayName.startsWith(googleName))
        .map((key) => key.name);
    },
    keyOf: (value) => String(value.safe_browsing_api_key_id),
    secretsOf: (value) => [
      String(value.safe_browsing_api_key ?? ''),
      String(value.recaptcha_secret_key ?? ''),
    ],
  },
  {
    name: 'clerk',
    shared: true,
    async initial() {
      clerkKeys = {
        old: `sk_live_${uniqueName('old').repeat(3)}`,
        staged: `sk_live_${uniqueName('new').repeat(3)}`,
      };
      clerk.setSecretKeys([clerkKeys.old, clerkKeys.staged], 'clerk.muejam.example');
      return { secret_key: clerkKeys.old, publishable_key: PUBLISHABLE, rotated_at: '2024-01-01T00:00:00Z' };
    },
    async prepare(arn) {
      await sm.send(
        new PutSecretValueCommand({
          SecretId: arn,
          SecretString: JSON.stringify({ secret_key: clerkKeys.staged }),
          VersionStages: ['STAGED'],
        }),
      );
    },
    // Clerk issues and deletes secret keys only in its dashboard: the keys are the ones the secret named.
    async live() {
      return [clerkKeys.old, clerkKeys.staged];
    },
    keyOf: (value) => String(value.secret_key),
    secretsOf: (value) => [String(value.secret_key ?? '')],
  },
];

/** A secret of `c`'s provider, its rotation started; returns its ARN, first value and token. */
async function newSecret(c: RaceCase) {
  const value = await c.initial();
  seen.push(...c.secretsOf(value));
  const out = await sm.send(
    new CreateSecretCommand({
      Name: `production/api-keys/${c.name}-${uniqueName('race')}`,
      SecretString: JSON.stringify(value),
      Tags: [{ Key: 'rotation-provider', Value: c.name }],
    }),
  );
  const arn = out.ARN ?? '';
  await c.prepare?.(arn);
  return { arn, value, token: await startRotation(sm, arn) };
}

async function valueWith(arn: string, stage: string): Promise<Record<string, string>> {
  const value = (await valueAt(sm, arn, stage)) ?? {};
  for (const c of cases) seen.push(...c.secretsOf(value).filter(Boolean));
  return value;
}

beforeAll(async () => {
  moto = await startMoto();
  credentials = await enableMotoAuth(moto.endpoint, REGION);
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  process.env.AWS_REGION = REGION;
  sm = withAwsVersionDates(awsClient(SecretsManagerClient));
  iam = awsClient(IAMClient);
  [resend, clerk, google] = await Promise.all([startFakeResend(), startFakeClerk(), startFakeGoogle()]);
  googleAccountSecret = 'production/rotation/google-service-account';
  await sm.send(
    new CreateSecretCommand({
      Name: googleAccountSecret,
      SecretString: JSON.stringify(google.registerServiceAccount({ projectId: 'muejam' })),
    }),
  );
});

afterAll(async () => {
  await Promise.all([resend?.close(), clerk?.close(), google?.close()]);
  await moto?.stop();
});

beforeEach(() => {
  output = captureOutput();
});

afterEach(() => {
  output.stop();
  seen.push(...resend.issuedTokens(), ...clerk.secretKeys(), ...google.secrets());
  expect(findLeaks(output.text(), seen), 'keys in captured output').toEqual([]);
});

describe.each(cases)('two createSecret attempts at once with the $name provider', (c) => {
  it(`end, ${REPEATS} times over, with exactly the old key and the stored new key live`, async () => {
    for (let round = 0; round < REPEATS; round++) {
      const { arn, value, token } = await newSecret(c);
      // Even rounds: the attempt that writes second started a second later; odd rounds: in the
      // same second. Which attempt writes first alternates every two rounds.
      const offsetMs = round % 2 === 0 ? 1000 : 0;
      const first = Math.floor(round / 2) % 2 === 0 ? 0 : 1;

      const { endings, refused, errors } = await race(arn, token, { offsetMs, first });

      if (c.name === 'aws') {
        // IAM allows one new key beside the current one: the second attempt finds the first's
        // key, unused and young, and leaves it alone.
        expect(endings, String(errors[0])).toEqual(['AccessKeyInFlightError', 'done']);
        expect((errors[0] as Error).message).toContain('may be another attempt');
        expect(refused).toBe(0);
        // Secrets Manager retries the failed attempt: the pending value is there.
        await expect(runSteps(handler(), arn, token, ['createSecret'])).resolves.toEqual([
          expect.objectContaining({ outcome: 'already-done' }),
        ]);
      } else if (c.shared && offsetMs === 0) {
        // The same credential and the same stamp: the same value, which AWS accepts twice.
        expect(endings).toEqual(['done', 'done']);
        expect(refused).toBe(0);
      } else {
        // Both wrote; AWS refused the second value, and its attempt discarded its credential.
        expect(endings).toEqual(['already-done', 'done']);
        expect(refused).toBe(1);
      }
      const stored = await valueWith(arn, 'AWSPENDING');
      expect((await c.live()).sort()).toEqual([c.keyOf(value), c.keyOf(stored)].sort());

      await runSteps(handler(), arn, token, ['setSecret', 'testSecret', 'finishSecret']);

      const current = await valueWith(arn, 'AWSCURRENT');
      expect(c.keyOf(current)).toBe(c.keyOf(stored));
      expect(c.keyOf(current)).not.toBe(c.keyOf(value));
      expect((await c.live()).sort()).toEqual([c.keyOf(value), c.keyOf(current)].sort());
      expect((await stagesOf(sm, arn))[token]).toEqual(['AWSCURRENT']);
    }
  });
});

describe('a losing attempt that dies before discarding its key', () => {
  it("leaves a key that testSecret's cleanup deletes (resend)", async () => {
    const c = cases[0] as RaceCase;
    const { arn, value, token } = await newSecret(c);
    // The losing attempt's read of AWSCURRENT (which its discard manages keys with) fails.
    let injected = 0;
    const dieAfterRefusal = (client: SecretsManagerClient) => {
      let refusedOnce = false;
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as GetSecretValueCommandInput;
          if (
            refusedOnce &&
            context.commandName === 'GetSecretValueCommand' &&
            input.VersionStage === 'AWSCURRENT'
          ) {
            injected++;
            throw new Error('injected: the Lambda died before discarding its key');
          }
          try {
            return await next(args);
          } catch (error) {
            if (error instanceof ResourceExistsException) refusedOnce = true;
            throw error;
          }
        },
        { step: 'initialize', priority: 'high', name: 'dieAfterRefusal' },
      );
    };

    const outcome = await race(arn, token, { offsetMs: 1000, first: 0, second: dieAfterRefusal });

    expect(injected).toBe(1);
    expect(outcome.endings).toEqual(['SecretsManagerUnavailableError', 'done']);
    expect(outcome.refused).toBe(1);
    const stored = await valueWith(arn, 'AWSPENDING');
    const leftovers = (await c.live()).filter((id) => id !== c.keyOf(value) && id !== c.keyOf(stored));
    expect(leftovers).toHaveLength(1);

    await runSteps(handler(), arn, token, ['setSecret', 'testSecret', 'finishSecret']);

    const current = await valueWith(arn, 'AWSCURRENT');
    expect((await c.live()).sort()).toEqual([c.keyOf(value), c.keyOf(current)].sort());
    expect(output.text()).toContain('deleted a key left by another attempt of this rotation');
  });

  it("deletes no key without this secret's and this token's marker, not even one with the token's old tag", async () => {
    const c = cases[0] as RaceCase;
    const { arn, value, token } = await newSecret(c);
    // The tag this product used to derive from the token alone: another secret's key could carry it.
    const bystander = resend.seedKey({
      name: `${resendName} (rotation ${token.replace(/-/g, '').slice(0, 12)})`,
    });

    await race(arn, token, { offsetMs: 1000, first: 0 });
    await runSteps(handler(), arn, token, ['setSecret', 'testSecret', 'finishSecret']);

    const current = await valueWith(arn, 'AWSCURRENT');
    expect((await c.live()).sort()).toEqual([c.keyOf(value), c.keyOf(current), bystander.id].sort());
  });
});

describe('an attempt that died after creating its IAM key (aws)', () => {
  const c = cases[1] as RaceCase;
  const STEP_TIMEOUT_MS = 900_000;

  /** An attempt of createSecret whose PutSecretValue fails before it is sent: the key stays behind. */
  async function dyingAttempt(arn: string, token: string): Promise<Error> {
    const client = withAwsVersionDates(
      injectFault(awsClient(SecretsManagerClient), 'PutSecretValueCommand', 'before'),
    );
    const error = await runSteps(handler({ secretsManager: client }), arn, token, ['createSecret']).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    client.destroy();
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }

  it('leaves a key that is waited for within the step timeout, then deleted as an orphan', async () => {
    const { arn, value, token } = await newSecret(c);
    const died = await dyingAttempt(arn, token);
    expect(`${died.message} ${String(died.cause)}`).toContain('injected: PutSecretValueCommand failed');
    const orphan = (await c.live()).find((id) => id !== c.keyOf(value)) ?? '';
    expect(orphan).not.toBe('');

    // Secrets Manager retries at once: the key may still be on its way from another attempt.
    const early = await runSteps(handler(), arn, token, ['createSecret']).catch((e: unknown) => e as Error);
    expect(early).toMatchObject({ name: 'AccessKeyInFlightError' });
    expect((await c.live()).sort()).toEqual([c.keyOf(value), orphan].sort());

    // A retry once the step timeout has passed: no attempt can still be storing it.
    const later = () => new Date(Date.now() + STEP_TIMEOUT_MS + 60_000);
    await runSteps(handler({ now: later }), arn, token);

    const current = await valueWith(arn, 'AWSCURRENT');
    expect((await c.live()).sort()).toEqual([c.keyOf(value), c.keyOf(current)].sort());
    expect(c.keyOf(current)).not.toBe(orphan);
    expect(output.text()).toContain('aws: deleted an access key this rotation created and never stored');
  });

  it('never deletes a key made before the rotation began, however old and unused: the step fails naming it', async () => {
    const value = await c.initial();
    seen.push(...c.secretsOf(value));
    const handMade = await iam.send(new CreateAccessKeyCommand({ UserName: appUser }));
    seen.push(handMade.AccessKey?.SecretAccessKey ?? '');
    // IAM and Secrets Manager date to the second: the rotation begins in a later second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const out = await sm.send(
      new CreateSecretCommand({
        Name: `production/api-keys/aws-${uniqueName('hand')}`,
        SecretString: JSON.stringify(value),
        Tags: [{ Key: 'rotation-provider', Value: 'aws' }],
      }),
    );
    const arn = out.ARN ?? '';
    const token = await startRotation(sm, arn);
    const before = (await c.live()).sort();

    const error = await runSteps(handler({ now: () => new Date(Date.now() + 86_400_000) }), arn, token, [
      'createSecret',
    ]).catch((e: unknown) => e as Error);

    expect(error).toMatchObject({ name: 'ForeignAccessKeyError' });
    expect((error as Error).message).toContain(
      "not provably this secret's: no rotation tag, and created before this rotation began",
    );
    expect((await c.live()).sort()).toEqual(before);
  });
});
