import {
  effectivePasswordPolicy,
  type PasswordLimits,
  type PasswordPolicy,
  type PasswordSource,
  POSTGRES_USER_LIMITS,
} from '../password/index.js';
import { Stage } from '../rotation/constants.js';
import { PendingTestFailedError } from '../rotation/errors.js';
import type {
  CreateContext,
  RotationLogger,
  RotationStrategy,
  SecretFields,
  SetContext,
  SetOutcome,
  TestContext,
} from '../rotation/strategy.js';
import {
  describeTarget,
  type PostgresConnector,
  type PostgresSession,
  type PostgresTarget,
} from './connection.js';
import { DatabaseAuthenticationError, NoWorkingCredentialError } from './errors.js';
import { tryLogin } from './proof.js';
import { type PostgresSecret, postgresSecretSchema, withPassword } from './secret.js';
import { alterRolePasswordSql } from './sql.js';
import { assertSameConnection, targetOf } from './target.js';

/** Dependencies of {@link PostgresSingleUserStrategy}. */
export interface PostgresSingleUserOptions {
  readonly connector: PostgresConnector;
  readonly passwords: PasswordSource;
  /**
   * The function's password settings, and the limits a password must keep: a secret's
   * `password_policy` overrides the settings. Without them, the source's own policy is used.
   */
  readonly policy?: PasswordPolicy;
  readonly limits?: PasswordLimits;
}

/**
 * Rotates the password of the one PostgreSQL user a secret holds.
 *
 * setSecret first checks that AWSCURRENT and the pending version connect the same way (the
 * database testSecret checks is the one whose password changed), then logs in as that user
 * with AWSCURRENT's password and sets the pending password. When AWSCURRENT's is refused, a
 * pending password that logs in means the step was done already; otherwise AWSPREVIOUS's
 * password is tried (a failed read of AWSPREVIOUS fails the step). Between setSecret and
 * finishSecret only the pending password works: the inherent window of single-user rotation.
 */
export class PostgresSingleUserStrategy implements RotationStrategy<PostgresSecret> {
  readonly kind = 'postgres-single-user';
  readonly schema = postgresSecretSchema;
  readonly #connector: PostgresConnector;
  readonly #passwords: PasswordSource;
  readonly #policy: PasswordPolicy | undefined;
  readonly #limits: PasswordLimits;
  /** A password being generated for one token while the guard runs (see {@link prepare}). */
  #prepared: { token: string; password: Promise<string> } | undefined;

  constructor(options: PostgresSingleUserOptions) {
    this.#connector = options.connector;
    this.#passwords = options.passwords;
    this.#policy = options.policy;
    this.#limits = options.limits ?? POSTGRES_USER_LIMITS;
  }

  prepare(token: string): void {
    const password = this.#passwords.generate();
    password.catch(() => undefined);
    this.#prepared = { token, password };
  }

  async createPending({ current, token, secret }: CreateContext<PostgresSecret>): Promise<SecretFields> {
    const prepared = this.#prepared?.token === token ? this.#prepared.password : undefined;
    this.#prepared = undefined;
    // The function's policy was checked against the limits at cold start; a secret's own is checked here.
    const own =
      this.#policy && (current.value.passwordPolicy || this.#limits !== POSTGRES_USER_LIMITS)
        ? effectivePasswordPolicy(
            this.#policy,
            current.value.passwordPolicy,
            this.#limits,
            `secret ${secret.name}`,
          )
        : undefined;
    const password = await (own ? this.#passwords.generate(own) : (prepared ?? this.#passwords.generate()));
    const { connectionString } = current.value;
    return {
      password,
      ...(connectionString ? { connection_string: withPassword(connectionString, password) } : {}),
    };
  }

  async setPending({
    secret,
    token,
    current,
    pending,
    readStage,
    logger,
  }: SetContext<PostgresSecret>): Promise<SetOutcome> {
    assertSameConnection(current.value, pending.value, secret.name, token);
    const target = targetOf(current.value);
    let session = await tryLogin(this.#connector, target, current.value.password, Stage.CURRENT, logger);
    if (!session) {
      // AWSCURRENT's is refused: a retry after the password was set, or a change made outside rotation.
      const pendingSession = await tryLogin(
        this.#connector,
        target,
        pending.value.password,
        Stage.PENDING,
        logger,
      );
      if (pendingSession) {
        await pendingSession.close();
        logger.info('database already accepts the pending password');
        return 'already-applied';
      }
      session = await this.#tryPrevious(target, current.value, readStage, logger);
    }
    if (!session) {
      throw new NoWorkingCredentialError(
        `none of the AWSCURRENT, AWSPREVIOUS or AWSPENDING passwords logs in to ${describeTarget(target)}: the password was changed outside rotation; put the working password in AWSCURRENT and rotate again`,
      );
    }
    try {
      await session.query(alterRolePasswordSql(target.username, pending.value.password));
    } finally {
      await session.close();
    }
    logger.info('database password set to the pending value');
    return 'applied';
  }

  async testPending({ pending }: TestContext<PostgresSecret>): Promise<void> {
    const target = targetOf(pending.value);
    let session: PostgresSession;
    try {
      session = await this.#connector.connect(target, pending.value.password);
    } catch (error) {
      if (error instanceof DatabaseAuthenticationError) {
        throw new PendingTestFailedError(
          `the pending password does not log in to ${describeTarget(target)}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    try {
      const rows = await session.query('SELECT current_user AS login');
      if (rows[0]?.login !== target.username) {
        throw new PendingTestFailedError(
          `the pending login to ${describeTarget(target)} ran as another user`,
        );
      }
    } finally {
      await session.close();
    }
  }

  async #tryPrevious(
    target: PostgresTarget,
    current: PostgresSecret,
    readStage: SetContext<PostgresSecret>['readStage'],
    logger: RotationLogger,
  ): Promise<PostgresSession | undefined> {
    // A failed read fails the step (Secrets Manager retries it): never "no AWSPREVIOUS".
    const previous = await readStage(Stage.PREVIOUS);
    if (
      !previous ||
      previous.value.username !== current.username ||
      previous.value.password === current.password
    ) {
      return undefined;
    }
    return tryLogin(this.#connector, target, previous.value.password, Stage.PREVIOUS, logger);
  }
}
