/**
 * Scaffolding shared by the API-key provider tests (`test/e2e/providers/*.test.ts`): the
 * {@link ProviderContext} a provider call is given, and the leak scan that proves no key
 * ends up in a log line, an error or a returned value.
 */
import { expect } from 'vitest';
import type { ProviderContext } from '../../shared/api-keys/provider.js';
import type { SecretFields } from '../../shared/rotation/strategy.js';
import { RecordingLogger } from './fakes.js';

/** What {@link providerContext} builds a context from. */
export interface ProviderContextOptions {
  /** The name of the secret being rotated; its ARN is built from it (see {@link secretArn}). */
  readonly secretName: string;
  /** The rotation's ClientRequestToken. */
  readonly token: string;
  /** The region in the secret's ARN; `eu-west-1` unless given. */
  readonly region?: string;
  /** The rotation's clock; the time of the call unless given. */
  readonly now?: Date;
  /** The other secrets `readSecret` answers with, by name or ARN; it throws for any other id. */
  readonly secrets?: Record<string, SecretFields>;
  /** The logger handed to the provider; a new one unless given. */
  readonly logger?: RecordingLogger;
  /** When the rotation began (the token's version's creation); unknown unless given. */
  readonly rotationStartedAt?: Date;
  /** How long another attempt may still be running; 15 minutes unless given. */
  readonly inFlightMs?: number;
}

/** The ARN of the secret named `secretName`, in account 123456789012, as the tests' contexts carry it. */
export function secretArn(secretName: string, region = 'eu-west-1'): string {
  return `arn:aws:secretsmanager:${region}:123456789012:secret:${secretName}-AbCdEf`;
}

/**
 * A {@link ProviderContext} for the secret `secretName`, rotation enabled, no versions and no
 * tags. `readSecret` answers from `secrets` and throws `no secret <id>` for any other id.
 * The logger is returned typed as a {@link RecordingLogger}, for assertions on what was logged.
 */
export function providerContext(options: ProviderContextOptions): ProviderContext & {
  logger: RecordingLogger;
} {
  const {
    secretName,
    token,
    region,
    now = new Date(),
    secrets = {},
    logger = new RecordingLogger(),
  } = options;
  return {
    secret: {
      arn: secretArn(secretName, region),
      name: secretName,
      rotationEnabled: true,
      versions: {},
      tags: {},
    },
    token,
    logger,
    now,
    inFlightMs: options.inFlightMs ?? 15 * 60_000,
    rotationStartedAt: async () => options.rotationStartedAt,
    async readSecret(secretId) {
      const value = secrets[secretId];
      if (!value) throw new Error(`no secret ${secretId}`);
      return value;
    },
  };
}

/**
 * Every text of `error` that could end up in a log or a report: the message, the stack,
 * `String(error)` and its JSON, for the error and for each `Error` in its `cause` chain.
 * Anything that is not an `Error` gives no text.
 */
export function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) {
    texts.push(e.message, e.stack ?? '', String(e), JSON.stringify(e));
  }
  return texts;
}

/**
 * Where a secret leaked: the `where` of each text that contains one of `secrets` verbatim,
 * in the order of `texts` (empty when nothing leaked).
 */
export function leaks(
  texts: readonly (readonly [where: string, text: string])[],
  secrets: readonly string[],
): string[] {
  return texts.filter(([, text]) => secrets.some((secret) => text.includes(secret))).map(([where]) => where);
}

/**
 * What one test saw, for the leak scan after it: the provider's log, every error the test
 * caught and every value a provider returned (minus the keys it issued, which are meant to
 * hold secrets).
 */
export class Seen {
  /** The errors caught, in order; see {@link Seen.failure}. */
  readonly errors: unknown[] = [];
  /** The values returned, in order, as the test pushes them. */
  readonly outputs: unknown[] = [];

  /** @param logger the logger handed to the provider in every context of the test. */
  constructor(readonly logger: RecordingLogger) {}

  /**
   * The rejection of `promise`, which must be an `Error`, recorded in {@link Seen.errors}.
   * Fails the test when `promise` resolves or rejects with anything else.
   */
  async failure(promise: Promise<unknown>): Promise<Error> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    this.errors.push(error);
    return error as Error;
  }

  /**
   * Every text to scan, each with where it came from: `log` (the whole log), `error <i>`
   * (each of {@link errorTexts} of the i-th error) and `output <i>` (the JSON of the i-th value).
   */
  texts(): [where: string, text: string][] {
    return [
      ['log', this.logger.text()],
      ...this.errors.flatMap((error, i) =>
        errorTexts(error).map((text): [string, string] => [`error ${i}`, text]),
      ),
      ...this.outputs.map((output, i): [string, string] => [`output ${i}`, JSON.stringify(output)]),
    ];
  }

  /** Where any of `secrets` appears in {@link Seen.texts}; see {@link leaks}. */
  leaks(secrets: readonly string[]): string[] {
    return leaks(this.texts(), secrets);
  }
}
