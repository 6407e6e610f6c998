import type { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsKeySecret } from '../api-keys/providers/aws/schema.js';
import type { ClerkSecret } from '../api-keys/providers/clerk/index.js';
import type { GoogleSecret } from '../api-keys/providers/google/schema.js';
import type { ResendSecret } from '../api-keys/providers/resend/schema.js';
import { createLogger } from '../logging/index.js';
import type * as z from '../zod.js';
import { SecretSource, SecretsAudit } from './audit.js';
import { type CachedRead, CachedSecretsManager } from './cache.js';
import { loadSecretsConfig, type SecretsConfig } from './config.js';
import { type DatabaseCredentials, databaseCredentials } from './database.js';
import { environmentFields, variableOf } from './environment.js';
import { InvalidSecretValueError, SecretNotFoundError, SecretsManagerUnavailableError } from './errors.js';
import { type FreshAttempt, type FreshOptions, withFreshCredentials } from './fresh.js';
import { type SecretKind, type SecretKindSpec, SecretKinds, type SecretValues } from './kinds.js';
import { isFullSecretId, resolveSecretId, SECRET_NAME_FORMAT, type SecretRef } from './names.js';

type Env = Record<string, string | undefined>;

/** A secret's value as stored: a JSON object. */
export type SecretFields = Record<string, unknown>;

/** Options of a typed getter. */
export interface GetOptions {
  /**
   * Which secret of the kind: a name completed as `{ENVIRONMENT}/{category}/<name>`, or a
   * full name (with a `/`) or ARN used as it is. The seed's name by default (`primary` for
   * the database, the provider's name for API keys).
   */
  readonly name?: string;
  /** Read Secrets Manager now, not the cache (the new value is cached). */
  readonly refresh?: boolean;
}

/** Options of {@link Secrets.get}. */
export interface GenericGetOptions<T> {
  /** Validates the value; without it, any JSON object is returned. */
  readonly schema?: z.ZodMiniType<T>;
  readonly refresh?: boolean;
}

/** The aws secret, with credentials ready for an AWS SDK v3 client's `credentials` option. */
export type AwsSecret = AwsKeySecret & {
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
};

/** Options of {@link createSecrets}. */
export interface SecretsOptions {
  /**
   * The Secrets Manager client. By default one from the environment (region from `AWS_REGION`)
   * with bounded timeouts and attempts: `SECRETS_CONNECT_TIMEOUT_MS`, `SECRETS_REQUEST_TIMEOUT_MS`,
   * `SECRETS_MAX_ATTEMPTS` (a client passed here keeps its own).
   */
  readonly client?: SecretsManagerClient;
  /** The audit log; the project's Powertools Logger by default. */
  readonly logger?: Logger;
  /** Settings over those read from `env` by {@link loadSecretsConfig}. */
  readonly config?: Partial<SecretsConfig>;
  /** Where configuration and the environment source are read; `process.env` by default. */
  readonly env?: Env;
}

/** What one read asks for: a value validated by `schema` (`V`), made the getter's result (`T`) by `finish`. */
interface ReadRequest<V, T> {
  readonly id: string | SecretRef;
  readonly schema: z.ZodMiniType<V> | undefined;
  /** The seed kind whose environment variables may stand in, if any. */
  readonly envKind: SecretKind | undefined;
  readonly refresh: boolean;
  /** Turns the validated value into the getter's result (part of the audited attempt). */
  readonly finish: (value: V) => T;
}

/**
 * Typed, cached, audited access to the seed's secrets. Values come from Secrets Manager
 * (through Powertools' cache) or, with `USE_SECRETS_MANAGER=False`, from environment
 * variables; when Secrets Manager is unavailable, from environment variables only for the
 * kinds `SECRETS_ENV_FALLBACK` names. Every attempt is audited; no value is ever logged.
 */
export class Secrets {
  readonly config: SecretsConfig;
  readonly #env: Env;
  readonly #logger: Logger;
  readonly #audit: SecretsAudit;
  readonly #cache: CachedSecretsManager;

  constructor(options: SecretsOptions = {}) {
    this.#env = options.env ?? process.env;
    this.config = { ...loadSecretsConfig(this.#env), ...options.config };
    this.#logger = options.logger ?? createLogger();
    this.#audit = new SecretsAudit(this.#logger);
    this.#cache = new CachedSecretsManager(
      options.client ??
        new SecretsManagerClient({
          maxAttempts: this.config.maxAttempts,
          requestHandler: {
            connectionTimeout: this.config.connectTimeoutMs,
            requestTimeout: this.config.requestTimeoutMs,
            // Without it the SDK only warns when requestTimeout passes, and keeps waiting.
            throwOnRequestTimeout: true,
          },
        }),
      this.config.cacheTtlSeconds,
    );
  }

  /** `{ENVIRONMENT}/database/primary`, with a ready `connectionString` and `pg` config. */
  async database(options: GetOptions = {}): Promise<DatabaseCredentials> {
    const trust = { ca: this.config.databaseCa, caFile: this.config.databaseCaFile };
    return this.#kind('database', options, (secret) => databaseCredentials(secret, trust));
  }

  /** `{ENVIRONMENT}/api-keys/clerk`: `secret_key`, `publishable_key`. */
  async clerk(options: GetOptions = {}): Promise<ClerkSecret> {
    return this.#kind('clerk', options, asIs);
  }

  /** `{ENVIRONMENT}/api-keys/aws`: `access_key_id`, `secret_access_key`, and `credentials` for an SDK client. */
  async aws(options: GetOptions = {}): Promise<AwsSecret> {
    return this.#kind('aws', options, (secret) => ({
      ...secret,
      credentials: { accessKeyId: secret.access_key_id, secretAccessKey: secret.secret_access_key },
    }));
  }

  /** `{ENVIRONMENT}/api-keys/resend`: `api_key`. */
  async resend(options: GetOptions = {}): Promise<ResendSecret> {
    return this.#kind('resend', options, asIs);
  }

  /** `{ENVIRONMENT}/api-keys/google`: `safe_browsing_api_key`, `recaptcha_secret_key`. */
  async google(options: GetOptions = {}): Promise<GoogleSecret> {
    return this.#kind('google', options, asIs);
  }

  /**
   * Any secret holding a JSON object: a string is a full name or ARN, used as it is; a
   * `{category, name}` is completed with `ENVIRONMENT`. Secrets Manager only: the
   * environment provides the seed's five secrets alone.
   */
  async get<T = SecretFields>(id: string | SecretRef, options: GenericGetOptions<T> = {}): Promise<T> {
    return this.#read({
      id,
      schema: options.schema,
      envKind: undefined,
      refresh: options.refresh === true,
      finish: asIs,
    });
  }

  /**
   * Runs `operation`, and once more with `refresh: true` if it fails with an authentication
   * error (PostgreSQL 28P01, HTTP 401, an AWS key refusal). Pass the attempt to the getters:
   * `secrets.withFreshCredentials(async (attempt) => use(await secrets.resend(attempt)))`.
   */
  withFreshCredentials<T>(
    operation: (attempt: FreshAttempt) => Promise<T>,
    options?: FreshOptions,
  ): Promise<T> {
    return withFreshCredentials(this.#logger, operation, options);
  }

  /** Forgets every cached value. */
  clearCache(): void {
    this.#cache.clear();
  }

  async #kind<K extends SecretKind, T>(
    kind: K,
    options: GetOptions,
    finish: (value: SecretValues[K]) => T,
  ): Promise<T> {
    const spec: SecretKindSpec<SecretValues[K]> = SecretKinds[kind];
    const name = options.name ?? spec.name;
    return this.#read({
      id: isFullSecretId(name) ? name : { category: spec.category, name },
      schema: spec.schema,
      envKind: name === spec.name ? kind : undefined,
      refresh: options.refresh === true,
      finish,
    });
  }

  async #read<V, T>(request: ReadRequest<V, T>): Promise<T> {
    if (!this.config.useSecretsManager) return this.#fromEnvironment(request, undefined);
    let secretId: string;
    try {
      secretId = resolveSecretId(request.id, this.config.environment);
    } catch (error) {
      this.#audit.failure(
        { secretName: this.#label(request.id), source: SecretSource.SECRETS_MANAGER },
        error,
      );
      throw error;
    }
    let read: CachedRead;
    try {
      read = await this.#cache.read(secretId, request.refresh);
    } catch (error) {
      this.#audit.failure({ secretName: secretId, source: SecretSource.SECRETS_MANAGER }, error);
      const kind = request.envKind;
      if (error instanceof SecretsManagerUnavailableError && kind && this.config.envFallback.includes(kind)) {
        return this.#fromEnvironment(request, error);
      }
      throw error;
    }
    const record = { secretName: secretId, source: read.source, versionId: read.versionId };
    try {
      const value = request.finish(
        parse(request.schema, jsonObject(read.raw, secretId), `secret ${secretId}`, (field) => field),
      );
      this.#audit.success(record);
      return value;
    } catch (error) {
      // A value that cannot be used is not kept: once the secret is fixed, the next read sees it.
      read.discard();
      this.#audit.failure(record, error);
      throw error;
    }
  }

  /** Reads a seed secret from environment variables; `unavailable` is set when this is a fallback. */
  async #fromEnvironment<V, T>(
    request: ReadRequest<V, T>,
    unavailable: SecretsManagerUnavailableError | undefined,
  ): Promise<T> {
    const kind = request.envKind;
    const label = this.#label(request.id);
    if (!kind) {
      const error = new SecretNotFoundError(
        `Secret not found: ${label}: USE_SECRETS_MANAGER=False reads only the seed's five secrets (database, clerk, aws, resend, google) from environment variables, and this is not one of them`,
        { secretName: label, expectedFormat: SECRET_NAME_FORMAT },
      );
      this.#audit.failure({ secretName: label, source: SecretSource.ENVIRONMENT }, error);
      throw error;
    }
    const found = environmentFields(kind, this.#env);
    const record = {
      secretName: label,
      source: SecretSource.ENVIRONMENT,
      variables: found.found ? found.variables : found.missing,
      ...(unavailable ? { fallback: true } : {}),
    };
    if (!found.found) {
      const error = unavailable
        ? new SecretsManagerUnavailableError(
            `${unavailable.message}; the environment fallback cannot stand in: ${found.reason}`,
            { cause: unavailable.cause },
          )
        : new SecretNotFoundError(
            `Secret not found: ${label}: ${found.reason} (USE_SECRETS_MANAGER=False reads the secrets from environment variables)`,
            { secretName: label, expectedFormat: SECRET_NAME_FORMAT, variables: found.missing },
          );
      this.#audit.failure(record, error);
      throw error;
    }
    try {
      const value = request.finish(
        parse(request.schema, found.fields, `the environment variables of ${label}`, (field) =>
          variableOf(kind, field),
        ),
      );
      this.#audit.success(record);
      return value;
    } catch (error) {
      this.#audit.failure(record, error);
      throw error;
    }
  }

  /**
   * The full name when `ENVIRONMENT` is known, else `{category}/{name}`, as given (not
   * checked: it names the attempt in messages and audit lines, also when the name is bad).
   */
  #label(id: string | SecretRef): string {
    if (typeof id === 'string') return id;
    const name = `${id.category}/${id.name}`;
    return this.config.environment ? `${this.config.environment}/${name}` : name;
  }
}

/** Creates the secrets client an application (or a worker) keeps for its lifetime. */
export function createSecrets(options: SecretsOptions = {}): Secrets {
  return new Secrets(options);
}

/** The result of a getter that returns the validated value as it is. */
const asIs = <T>(value: T): T => value;

/** The JSON object a secret's string holds. The parser's message, which quotes the text, is never used. */
function jsonObject(raw: string | undefined, secretId: string): SecretFields {
  if (raw === undefined) throw new InvalidSecretValueError(`secret ${secretId} holds no string value`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidSecretValueError(`secret ${secretId} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidSecretValueError(`secret ${secretId} is not a JSON object`);
  }
  return value as SecretFields;
}

/**
 * Validates `fields` with `schema` (or returns them when there is none).
 * @throws {InvalidSecretValueError} naming each field by `describe` (a field, or its variable) and the rule, never a value.
 */
function parse<T>(
  schema: z.ZodMiniType<T> | undefined,
  fields: SecretFields,
  where: string,
  describe: (field: string) => string,
): T {
  if (!schema) return fields as T;
  const parsed = schema.safeParse(fields);
  if (parsed.success) return parsed.data;
  const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(value)');
  const problems = parsed.error.issues.map(
    (issue, i) => `${describe(paths[i] ?? '(value)')}: ${issue.message}`,
  );
  throw new InvalidSecretValueError(`${where} is not valid: ${problems.join('; ')}`, paths);
}
