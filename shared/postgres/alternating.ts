import {
  effectivePasswordPolicy,
  type PasswordPolicy,
  type PasswordSource,
  POSTGRES_USER_LIMITS,
} from '../password/index.js';
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
import { describeTarget, type PostgresConnector, type PostgresSession } from './connection.js';
import { ConnectionMismatchError, DatabaseAuthenticationError, NoWorkingCredentialError } from './errors.js';
import type { MasterCredentials, MasterSecrets } from './master.js';
import { HeldLogins, logsIn } from './proof.js';
import type { RdsDatabase } from './rds.js';
import {
  describeOwned,
  objectsOwnedBy,
  otherLogin,
  rolePairOf,
  type SyncReport,
  setRolePassword,
  syncClone,
} from './roles.js';
import { type PostgresSecret, postgresSecretSchema, withPassword, withUsername } from './secret.js';
import { quoteIdentifier } from './sql.js';
import { startOverAdvice, targetOf } from './target.js';

/** Dependencies of {@link PostgresAlternatingUsersStrategy}. */
export interface PostgresAlternatingUsersOptions {
  readonly connector: PostgresConnector;
  readonly passwords: PasswordSource;
  /** The function's password settings; a secret's `password_policy` overrides them. */
  readonly policy: PasswordPolicy;
  readonly masters: MasterSecrets;
  /** The RDS database the user secret names, when it names one (already checked by the caller). */
  readonly rdsDatabase?: (secret: PostgresSecret) => Promise<RdsDatabase | undefined>;
}

/**
 * Rotates between two logins, `<user>` and `<user>_clone` (AWS's "alternating users" scheme),
 * for a secret that names its master secret in `masterarn`. Each rotation sets a new password
 * on the login AWSCURRENT does not use, so applications holding AWSCURRENT (or caching it)
 * keep working through the rotation, and until the next one.
 *
 * setSecret first proves that the secret holds a login of the pair (AWSCURRENT's password, or
 * AWSPREVIOUS's, logs in), then logs in with the master credentials and, in one transaction,
 * creates the clone if missing, makes it a login alias of the original (membership in the
 * original, its attributes and per-role settings, and sessions that run as the original, so
 * that whatever either login creates has one owner), then sets the pending login's password.
 * This runs at every rotation, so privileges follow each time. testSecret logs in as the
 * pending login, and checks that its sessions run as the original and the clone owns nothing.
 */
export class PostgresAlternatingUsersStrategy implements RotationStrategy<PostgresSecret> {
  readonly kind = 'postgres-alternating-users';
  readonly schema = postgresSecretSchema;
  readonly #options: PostgresAlternatingUsersOptions;

  constructor(options: PostgresAlternatingUsersOptions) {
    this.#options = options;
  }

  async createPending({ current, secret }: CreateContext<PostgresSecret>): Promise<SecretFields> {
    const username = otherLogin(current.value.username);
    const policy = effectivePasswordPolicy(
      this.#options.policy,
      current.value.passwordPolicy,
      POSTGRES_USER_LIMITS,
      `secret ${secret.name}`,
    );
    const password = await this.#options.passwords.generate(policy);
    const { connectionString } = current.value;
    return {
      username,
      password,
      ...(connectionString
        ? { connection_string: withPassword(withUsername(connectionString, username), password) }
        : {}),
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
    const expected = otherLogin(current.value.username);
    if (pending.value.username !== expected) {
      throw new ConnectionMismatchError(
        `setSecret refuses version ${token} of secret ${secret.name}: AWSCURRENT uses the login ${JSON.stringify(current.value.username)}, so the pending version must use ${JSON.stringify(expected)}, not ${JSON.stringify(pending.value.username)}: setting its password would lock out AWSCURRENT's applications. Nothing was changed. ${startOverAdvice(secret.name, token)}`,
        ['username'],
      );
    }
    const pair = rolePairOf(current.value.username);
    const masterArn = current.value.masterArn ?? '';
    const userRds = await this.#options.rdsDatabase?.(current.value);
    const master = await this.#options.masters.resolve(masterArn, current.value, userRds);
    for (const login of [pair.original, pair.clone]) {
      if (master.target.username === login) {
        throw new ConnectionMismatchError(
          `the master secret of ${secret.name} logs in as ${JSON.stringify(login)}, one of the two logins it rotates: name a master user that is neither. Nothing was changed`,
          ['masterarn'],
        );
      }
    }
    const { connector } = this.#options;
    const target = targetOf(pending.value);
    const already = await logsIn(connector, target, pending.value.password);
    // Proof that this secret holds a login of the pair, before the master is asked for anything.
    const held = new HeldLogins({
      connector,
      current,
      readStage,
      logger,
      accepts: (username) => username === pair.original || username === pair.clone,
    });
    const proof = await held.proven();
    if (!proof) {
      throw new NoWorkingCredentialError(
        `neither AWSCURRENT's nor AWSPREVIOUS's password logs in to ${describeTarget(targetOf(current.value))}: nothing proves this secret holds the login it names, so the master is not asked to act for it. Nothing was changed. Put the login's working password in AWSCURRENT and rotate again`,
      );
    }
    this.#logMasterTls(logger, master);
    const session = await connector.connect(master.target, master.password);
    try {
      await session.query('BEGIN');
      const report = await syncClone(session, pair, secret.arn, {
        cloneLogsIn: () => held.logsInAs(pair.clone),
        connectTo: (database) => connector.connect({ ...master.target, database }, master.password),
      });
      if (!already) await setRolePassword(session, pending.value.username, pending.value.password);
      await session.query('COMMIT');
      this.#report(logger, report, master.source, pair.original, proof);
    } catch (error) {
      await session.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await session.close();
    }
    logger.info(already ? 'the pending login already accepts its password' : 'pending login password set', {
      login: pending.value.username,
      target: describeTarget(target),
    });
    return already ? 'already-applied' : 'applied';
  }

  async testPending({ pending }: TestContext<PostgresSecret>): Promise<void> {
    const target = targetOf(pending.value);
    const pair = rolePairOf(pending.value.username);
    let session: PostgresSession;
    try {
      session = await this.#options.connector.connect(target, pending.value.password);
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
      const rows = await session.query('SELECT session_user AS login, current_user AS acting');
      const { login, acting } = rows[0] ?? {};
      if (login !== pending.value.username) {
        throw new PendingTestFailedError(
          `the pending login to ${describeTarget(target)} ran as another user`,
        );
      }
      if (login === pair.clone && acting === pair.clone) {
        throw new PendingTestFailedError(
          `the clone ${JSON.stringify(pair.clone)} logs in but its sessions do not run as ${JSON.stringify(pair.original)}: what it creates would not be usable by the original. Run setSecret again`,
        );
      }
      // The clone's sessions run as the original, which cannot use what the clone itself owns.
      const owned = await objectsOwnedBy(session, pair.clone);
      if (owned.length > 0) {
        throw new PendingTestFailedError(
          `role ${JSON.stringify(pair.clone)} owns ${describeOwned(owned)}: sessions of either login run as ${JSON.stringify(pair.original)} and would get "permission denied" on them. setSecret gives them to ${JSON.stringify(pair.original)}; run it again, or, as a role with the privileges of both, run REASSIGN OWNED BY ${quoteIdentifier(pair.clone)} TO ${quoteIdentifier(pair.original)} in each of those databases`,
        );
      }
    } finally {
      await session.close();
    }
  }

  /** Logs how the master's login is protected: its password crosses the network here. */
  #logMasterTls(logger: RotationLogger, master: MasterCredentials): void {
    const verification = this.#options.connector.verification?.(master.target);
    const details = {
      verification,
      target: describeTarget(master.target),
      decidedBy: master.target.sslmodeFrom ?? 'default',
      masterSource: master.source,
    };
    if (verification === 'off' || verification === 'encrypted-unverified') {
      logger.warn(
        "the master's login is not protected by a verified TLS connection, as the master secret says",
        details,
      );
    } else {
      logger.info("the master's login TLS", details);
    }
  }

  #report(
    logger: RotationLogger,
    report: SyncReport,
    masterSource: string,
    original: string,
    provenBy: string,
  ): void {
    const { directGrantsOnClone, ...changes } = report;
    logger.info('clone kept in step with the original', { ...changes, masterSource, provenBy });
    if (directGrantsOnClone > 0) {
      logger.warn(
        'privileges are granted to the clone itself: its sessions run as the original, so they have no effect; grant them to the original',
        { grants: directGrantsOnClone, original },
      );
    }
  }
}
