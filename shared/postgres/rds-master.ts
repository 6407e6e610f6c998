import { setTimeout as sleep } from 'node:timers/promises';
import {
  effectivePasswordPolicy,
  type PasswordPolicy,
  type PasswordSource,
  RDS_CLUSTER_MASTER_LIMITS,
  RDS_INSTANCE_MASTER_LIMITS,
} from '../password/index.js';
import { PendingTestFailedError } from '../rotation/errors.js';
import type {
  CreateContext,
  RotationStrategy,
  SecretFields,
  SetContext,
  SetOutcome,
  TestContext,
} from '../rotation/strategy.js';
import { describeTarget, type PostgresConnector } from './connection.js';
import { DatabaseAuthenticationError, NoWorkingCredentialError } from './errors.js';
import { HeldLogins, logsIn } from './proof.js';
import { describeRef, type RdsDatabase, type RdsDatabases, RdsManagedSecretError } from './rds.js';
import { type PostgresSecret, postgresSecretSchema, type RdsDatabaseRef, withPassword } from './secret.js';
import type { PostgresSingleUserStrategy } from './strategy.js';
import { assertSameConnection, targetOf } from './target.js';

/** How long testSecret waits for RDS to apply a new master password. */
export interface MasterPasswordWait {
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

/** Dependencies of {@link PostgresRdsMasterStrategy}. */
export interface PostgresRdsMasterOptions {
  readonly connector: PostgresConnector;
  readonly passwords: PasswordSource;
  readonly policy: PasswordPolicy;
  readonly rds: RdsDatabases;
  /** The database a secret names, described once per step (the caller has checked its host). */
  readonly database: (secret: PostgresSecret) => Promise<RdsDatabase | undefined>;
  /** Rotates a user who is not the master user, though the secret names the database. */
  readonly singleUser: PostgresSingleUserStrategy;
  readonly wait: MasterPasswordWait;
  /** Waits between login attempts; tests pass a clock. */
  readonly sleep?: (ms: number) => Promise<unknown>;
  readonly now?: () => number;
}

/** The password limits of a database's master user. */
export function masterLimits(ref: RdsDatabaseRef) {
  return ref.kind === 'instance' ? RDS_INSTANCE_MASTER_LIMITS : RDS_CLUSTER_MASTER_LIMITS;
}

/**
 * Rotates the master user's password of an RDS instance or cluster the secret names
 * (`dbInstanceIdentifier` or `dbClusterIdentifier`) through the RDS API: setSecret, once
 * AWSCURRENT's password (or AWSPREVIOUS's) has logged in as the master user, calls
 * ModifyDBInstance or ModifyDBCluster with the pending password, and testSecret waits,
 * within a configurable bound, until RDS has applied it and it logs in.
 *
 * Only the database's own master user is rotated this way (the secret's username must be its
 * `MasterUsername`); another user of a named database is rotated as a single user. A database
 * whose master password RDS manages itself is refused.
 */
export class PostgresRdsMasterStrategy implements RotationStrategy<PostgresSecret> {
  readonly kind = 'postgres-rds-master';
  readonly schema = postgresSecretSchema;
  readonly #options: PostgresRdsMasterOptions;

  constructor(options: PostgresRdsMasterOptions) {
    this.#options = options;
  }

  async createPending(context: CreateContext<PostgresSecret>): Promise<SecretFields> {
    const { current, secret } = context;
    const ref = current.value.rds;
    if (!ref) throw new TypeError('the RDS master strategy needs a secret that names its database');
    // The master's limits apply whether or not the user turns out to be the master: a password
    // valid for both is a valid one for PostgreSQL.
    const policy = effectivePasswordPolicy(
      this.#options.policy,
      current.value.passwordPolicy,
      masterLimits(ref),
      `secret ${secret.name}`,
    );
    const password = await this.#options.passwords.generate(policy);
    const { connectionString } = current.value;
    return {
      password,
      ...(connectionString ? { connection_string: withPassword(connectionString, password) } : {}),
    };
  }

  async setPending(context: SetContext<PostgresSecret>): Promise<SetOutcome> {
    const { secret, token, current, pending, logger } = context;
    assertSameConnection(current.value, pending.value, secret.name, token);
    const database = await this.#options.database(current.value);
    if (!database) throw new TypeError('the RDS master strategy needs a secret that names its database');
    if (database.masterUsername !== current.value.username) {
      logger.info(
        'the user is not the master user of the database the secret names: rotating it as a single user',
        {
          database: describeRef(database.ref),
        },
      );
      return this.#options.singleUser.setPending(context);
    }
    if (database.managedMasterSecretArn) {
      throw new RdsManagedSecretError(
        `RDS manages the master password of ${describeRef(database.ref)} in secret ${database.managedMasterSecretArn} (ManageMasterUserPassword): RDS rotates it, and refuses a password set by anyone else. Nothing was changed. Rotate that secret with RDS (aws rds modify-db-${database.ref.kind} --rotate-master-user-password), or turn RDS's management off to rotate it here`,
      );
    }
    const { connector } = this.#options;
    const target = targetOf(pending.value);
    if (await logsIn(connector, target, pending.value.password)) {
      logger.info('the database already accepts the pending master password', {
        target: describeTarget(target),
      });
      return 'already-applied';
    }
    // Proof that this secret holds the master password, before RDS is asked to replace it.
    const proof = await new HeldLogins({
      connector,
      current,
      readStage: context.readStage,
      logger,
      accepts: (username) => username === current.value.username,
    }).proven();
    if (!proof) {
      throw new NoWorkingCredentialError(
        `neither AWSCURRENT's nor AWSPREVIOUS's password logs in to ${describeTarget(targetOf(current.value))} as the master user of ${describeRef(database.ref)}: nothing proves this secret holds the master password, so RDS is not asked to replace it. Nothing was changed. Put the working master password in AWSCURRENT and rotate again (or reset it with aws rds modify-db-${database.ref.kind})`,
      );
    }
    await this.#options.rds.setMasterPassword(database.ref, pending.value.password);
    logger.info('master password change requested from RDS', {
      database: describeRef(database.ref),
      call: database.ref.kind === 'instance' ? 'ModifyDBInstance' : 'ModifyDBCluster',
      provenBy: proof,
    });
    return 'applied';
  }

  async testPending(context: TestContext<PostgresSecret>): Promise<void> {
    const { pending, logger } = context;
    const database = await this.#options.database(pending.value);
    if (!database || database.masterUsername !== pending.value.username) {
      return this.#options.singleUser.testPending(context);
    }
    const target = targetOf(pending.value);
    const now = this.#options.now ?? Date.now;
    const wait = this.#options.sleep ?? sleep;
    const deadline = now() + this.#options.wait.timeoutMs;
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        const session = await this.#options.connector.connect(target, pending.value.password);
        try {
          const rows = await session.query('SELECT session_user AS login');
          if (rows[0]?.login !== pending.value.username) {
            throw new PendingTestFailedError(
              `the pending login to ${describeTarget(target)} ran as another user`,
            );
          }
        } finally {
          await session.close();
        }
        logger.info('the new master password logs in', { attempts });
        return;
      } catch (error) {
        if (!(error instanceof DatabaseAuthenticationError)) throw error;
        if (now() + this.#options.wait.intervalMs > deadline) {
          throw new PendingTestFailedError(
            `the new master password of ${describeRef(database.ref)} does not log in to ${describeTarget(target)} after ${attempts} attempts in ${Math.round(this.#options.wait.timeoutMs / 1000)} s: RDS applies it asynchronously. Secrets Manager retries testSecret; if RDS is slower than that, raise RDS_PASSWORD_WAIT_SECONDS`,
            { cause: error },
          );
        }
        await wait(this.#options.wait.intervalMs);
      }
    }
  }
}
