import type { PasswordPolicy, PasswordSource } from '../password/index.js';
import type { SecretDescription } from '../rotation/secret-store.js';
import type {
  CreateContext,
  RotationLogger,
  RotationStrategy,
  SecretFields,
  SetContext,
  SetOutcome,
  TestContext,
} from '../rotation/strategy.js';
import { PostgresAlternatingUsersStrategy } from './alternating.js';
import { describeTarget, type PostgresConnector } from './connection.js';
import { PasswordReplacedError } from './errors.js';
import type { MasterSecrets } from './master.js';
import {
  describeRef,
  EndpointMismatchError,
  isEndpointOf,
  type RdsDatabase,
  type RdsDatabases,
  RdsManagedSecretError,
  rdsManagedSecretOwner,
} from './rds.js';
import { type MasterPasswordWait, PostgresRdsMasterStrategy } from './rds-master.js';
import { type PostgresSecret, postgresSecretSchema } from './secret.js';
import { PostgresSingleUserStrategy } from './strategy.js';
import { assertSameConnection, targetOf } from './target.js';

/** How a database secret rotates, read from its fields. */
export const RotationMode = {
  /** No `masterarn`, no RDS identifier: the user sets its own new password. */
  SINGLE_USER: 'single-user',
  /** `masterarn`: two logins, `<user>` and `<user>_clone`, alternate; the master sets passwords. */
  ALTERNATING_USERS: 'alternating-users',
  /** `dbInstanceIdentifier` or `dbClusterIdentifier` without `masterarn`: the master password, through the RDS API. */
  RDS_MASTER: 'rds-master',
} as const;

/** One of {@link RotationMode}'s values. */
export type RotationMode = (typeof RotationMode)[keyof typeof RotationMode];

/** The rotation mode a secret asks for. */
export function rotationModeOf(secret: PostgresSecret): RotationMode {
  if (secret.masterArn) return RotationMode.ALTERNATING_USERS;
  if (secret.rds) return RotationMode.RDS_MASTER;
  return RotationMode.SINGLE_USER;
}

/** Dependencies of {@link PostgresRotationStrategy}. */
export interface PostgresRotationOptions {
  readonly connector: PostgresConnector;
  readonly passwords: PasswordSource;
  /** The function's password settings (checked at cold start); a secret's `password_policy` overrides them. */
  readonly policy: PasswordPolicy;
  readonly rds: RdsDatabases;
  readonly masters: MasterSecrets;
  readonly masterPasswordWait: MasterPasswordWait;
  /** Waits between testSecret's login attempts on a new RDS master password (tests pass their own). */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/**
 * PostgreSQL rotation: one strategy per secret kind, chosen from each version's fields
 * ({@link rotationModeOf}). Before any step connects, it checks that the secret's host is an
 * endpoint of the RDS database it names (if it names one), and it logs how the server's
 * certificate is checked when the secret relaxes it.
 */
export class PostgresRotationStrategy implements RotationStrategy<PostgresSecret> {
  readonly kind = 'postgres';
  readonly schema = postgresSecretSchema;
  readonly #connector: PostgresConnector;
  readonly #rds: RdsDatabases;
  readonly #strategies: Record<RotationMode, RotationStrategy<PostgresSecret>>;
  readonly #single: PostgresSingleUserStrategy;
  /** The databases described in this step (one DescribeDB* per database and step). */
  #described = new Map<string, Promise<RdsDatabase>>();

  constructor(options: PostgresRotationOptions) {
    this.#connector = options.connector;
    this.#rds = options.rds;
    const database = (secret: PostgresSecret) => this.#database(secret);
    this.#single = new PostgresSingleUserStrategy({
      connector: options.connector,
      passwords: options.passwords,
      policy: options.policy,
    });
    this.#strategies = {
      [RotationMode.SINGLE_USER]: this.#single,
      [RotationMode.ALTERNATING_USERS]: new PostgresAlternatingUsersStrategy({
        connector: options.connector,
        passwords: options.passwords,
        policy: options.policy,
        masters: options.masters,
        rdsDatabase: database,
      }),
      [RotationMode.RDS_MASTER]: new PostgresRdsMasterStrategy({
        connector: options.connector,
        passwords: options.passwords,
        policy: options.policy,
        rds: options.rds,
        database,
        singleUser: this.#single,
        wait: options.masterPasswordWait,
        ...(options.sleep ? { sleep: options.sleep } : {}),
      }),
    };
  }

  prepare(token: string): void {
    this.#single.prepare(token);
  }

  async createPending(context: CreateContext<PostgresSecret>): Promise<SecretFields> {
    this.#described = new Map();
    const mode = rotationModeOf(context.current.value);
    context.logger.info('rotation mode', { mode });
    return this.#strategies[mode].createPending(context);
  }

  async setPending(context: SetContext<PostgresSecret>): Promise<SetOutcome> {
    this.#described = new Map();
    const { current, pending, secret, token, logger } = context;
    const mode = rotationModeOf(current.value);
    assertSameConnection(
      current.value,
      pending.value,
      secret.name,
      token,
      mode === RotationMode.ALTERNATING_USERS ? ['username'] : [],
    );
    await this.#assertEndpoint(current.value);
    this.#logTls(logger, current.value);
    logger.info('rotation mode', { mode });
    return this.#strategies[mode].setPending(context);
  }

  async testPending(context: TestContext<PostgresSecret>): Promise<void> {
    this.#described = new Map();
    const mode = rotationModeOf(context.pending.value);
    await this.#assertEndpoint(context.pending.value);
    this.#logTls(context.logger, context.pending.value);
    return this.#strategies[mode].testPending(context);
  }

  /**
   * Tests a superseded version's credential (a rollback's AWSPREVIOUS, given as `pending`) as
   * testSecret tests a pending one: the endpoint check before any login, then the test of the
   * version's own mode (alternating users: the login, its sessions running as the original,
   * the clone owning nothing). The master user of an RDS database the version names is
   * refused before any login: its rotation replaced the password through the RDS API
   * (ModifyDBInstance, ModifyDBCluster), which keeps no previous one, and waiting for it to
   * log in (as testSecret waits for a new one) could only time out.
   * @throws {PasswordReplacedError} for the master user of an RDS database, before any login.
   * @throws {EndpointMismatchError} when the host is not an endpoint of the database the version names.
   * @throws {PendingTestFailedError} when the credential fails its mode's test.
   */
  async testPrevious(context: TestContext<PostgresSecret>): Promise<void> {
    this.#described = new Map();
    const { value } = context.pending;
    const mode = rotationModeOf(value);
    await this.#assertEndpoint(value);
    const database = mode === RotationMode.RDS_MASTER ? await this.#database(value) : undefined;
    if (database?.masterUsername !== undefined && database.masterUsername === value.username) {
      const call = database.ref.kind === 'instance' ? 'ModifyDBInstance' : 'ModifyDBCluster';
      throw new PasswordReplacedError(
        `${JSON.stringify(value.username)} is the master user of ${describeRef(database.ref)}: rotation replaces its password through the RDS API (${call}), and RDS keeps no previous master password, so the AWSPREVIOUS one cannot log in. No login was tried`,
      );
    }
    this.#logTls(context.logger, value);
    return this.#strategies[mode].testPending(context);
  }

  /** The RDS database a secret names, described once per step; undefined when it names none. */
  async #database(secret: PostgresSecret): Promise<RdsDatabase | undefined> {
    const ref = secret.rds;
    if (!ref) return undefined;
    const key = `${ref.kind}:${ref.identifier}`;
    let described = this.#described.get(key);
    if (!described) {
      described = this.#rds.describe(ref);
      this.#described.set(key, described);
    }
    return described;
  }

  /** A secret that names an RDS database must name one of its endpoints; checked before any connection. */
  async #assertEndpoint(secret: PostgresSecret): Promise<void> {
    const database = await this.#database(secret);
    if (!database || isEndpointOf(database, secret)) return;
    const field = database.ref.kind === 'instance' ? 'dbInstanceIdentifier' : 'dbClusterIdentifier';
    throw new EndpointMismatchError(
      `the secret's host ${secret.host}:${secret.port} is not an endpoint of ${describeRef(database.ref)} (its ${field}), whose endpoints are ${database.endpoints.map((e) => `${e.host}:${e.port}`).join(', ')}: no password was sent anywhere. Fix host, port or ${field} in the secret`,
    );
  }

  #logTls(logger: RotationLogger, secret: PostgresSecret): void {
    const target = targetOf(secret);
    const verification = this.#connector.verification?.(target);
    const details = { target: describeTarget(target), decidedBy: target.sslmodeFrom };
    if (verification === 'off') logger.warn('TLS is off for this database, as the secret says', details);
    else if (verification === 'encrypted-unverified') {
      logger.warn(
        "TLS without certificate verification, as the secret's sslmode says (no CA is configured for this database)",
        details,
      );
    } else if (verification === 'chain-only') {
      logger.info(
        "the server's certificate chain is verified, not its host name, as the secret's sslmode says",
        details,
      );
    }
  }
}

/**
 * The strategy for each database secret: {@link PostgresRotationStrategy}, except for a secret
 * RDS manages itself (`rds!db-…`, `rds!cluster-…`, or tagged `aws:rds:primaryDBInstanceArn` /
 * `aws:rds:primaryDBClusterArn`), which every step refuses.
 */
export function databaseStrategyResolver(strategy: PostgresRotationStrategy) {
  return (secret: SecretDescription): PostgresRotationStrategy => {
    const managed = rdsManagedSecretOwner(secret);
    if (managed) {
      throw new RdsManagedSecretError(
        `secret ${secret.name} is managed by RDS${managed.ref ? ` for ${describeRef(managed.ref)}` : ''}: RDS rotates it itself and refuses any other rotation, so this function does not touch it. Nothing was changed. Rotate it with RDS (aws rds modify-db-${managed.ref?.kind ?? 'instance'} --rotate-master-user-password); to use it for alternating users, name it as masterarn in the user's secret`,
      );
    }
    return strategy;
  };
}
