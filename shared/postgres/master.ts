import { MalformedSecretError } from '../rotation/errors.js';
import type { SecretDescription } from '../rotation/secret-store.js';
import type { SecretReader } from '../secrets/reader.js';
import * as z from '../zod.js';
import type { PostgresTarget } from './connection.js';
import {
  describeRef,
  EndpointMismatchError,
  isEndpointOf,
  type RdsDatabase,
  type RdsDatabases,
  rdsManagedSecretOwner,
  sameHost,
} from './rds.js';
import { type PostgresSecret, postgresSecretSchema } from './secret.js';

/** The master login an alternating-users rotation works with. */
export interface MasterCredentials {
  readonly target: PostgresTarget;
  readonly password: string;
  /** `rds-managed` when the master secret is the one RDS keeps (`rds!db-…`). */
  readonly source: 'secret' | 'rds-managed';
}

/** Dependencies of {@link MasterSecrets}. */
export interface MasterSecretsOptions {
  /** Reads a secret's AWSCURRENT value, uncached (the worker reader of `shared/secrets`). */
  readonly read: SecretReader;
  /** DescribeSecret: the master secret's tags say whether RDS manages it. */
  readonly describe: (secretId: string) => Promise<SecretDescription>;
  readonly rds: RdsDatabases;
}

const managedValueSchema = z.looseObject({
  username: z.requiredString().check(z.minLength(1, { error: 'is required' })),
  password: z.requiredString().check(z.minLength(1, { error: 'is required' })),
});

/**
 * Reads the master credentials a user secret names in `masterarn`, and proves they are for
 * the user's database before anything is sent to it:
 * - a master secret in the usual shape (host, port, username, password, …) must name the same
 *   host and port as the user's secret, or, when either names an RDS database, an endpoint of
 *   that same database;
 * - an RDS-managed master secret (`rds!db-…`, `rds!cluster-…`; only `username` and
 *   `password`) gets its host and port from DescribeDBInstances or DescribeDBClusters, for the
 *   database its tags name; the user's host must be one of that database's endpoints. Its
 *   login always uses TLS with `verify-full` against the shipped RDS bundle alone, whatever
 *   the user secret says (the user secret's `"ssl": false` is for the application's login).
 * @throws {EndpointMismatchError} when they point at different databases: nothing was sent.
 */
export class MasterSecrets {
  readonly #options: MasterSecretsOptions;

  constructor(options: MasterSecretsOptions) {
    this.#options = options;
  }

  async resolve(
    masterArn: string,
    user: PostgresSecret,
    userRds: RdsDatabase | undefined,
  ): Promise<MasterCredentials> {
    const [description, raw] = await Promise.all([
      this.#options.describe(masterArn),
      this.#options.read(masterArn),
    ]);
    const where = `the master secret ${description.name} (masterarn)`;
    const managed = rdsManagedSecretOwner(description);
    if (managed) {
      if (!managed.ref) {
        throw new MalformedSecretError(
          `${where} is named like an RDS-managed secret but has no aws:rds:primaryDBInstanceArn or aws:rds:primaryDBClusterArn tag, so its database is unknown`,
        );
      }
      const parsed = managedValueSchema.safeParse(raw);
      if (!parsed.success) {
        throw new MalformedSecretError(
          `${where} is not a valid RDS-managed secret: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          parsed.error.issues.map((i) => i.path.join('.')),
        );
      }
      const database =
        userRds && userRds.ref.kind === managed.ref.kind && userRds.ref.identifier === managed.ref.identifier
          ? userRds
          : await this.#options.rds.describe(managed.ref);
      if (!isEndpointOf(database, user)) {
        throw new EndpointMismatchError(
          `the user secret's host ${user.host}:${user.port} is not an endpoint of ${describeRef(database.ref)}, whose master secret ${description.name} its masterarn names: master and user must point at the same database. Nothing was sent to either`,
        );
      }
      return {
        target: {
          host: database.writer.host,
          port: database.writer.port,
          database: user.database,
          username: parsed.data.username,
          // The master's password goes only to the RDS server RDS names, whatever the user
          // secret (written by the application's team) says about its own connection.
          sslmode: 'verify-full',
          sslmodeFrom: 'rds-managed-master',
          rdsBundleOnly: true,
          rds: database.ref,
        },
        password: parsed.data.password,
        source: 'rds-managed',
      };
    }
    const parsed = postgresSecretSchema.safeParse(raw);
    if (!parsed.success) {
      const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(value)');
      throw new MalformedSecretError(
        `${where} is not a valid PostgreSQL secret: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ')}`,
        paths,
      );
    }
    const master = parsed.data;
    await this.#assertSameDatabase(master, user, userRds, where);
    return {
      target: {
        host: master.host,
        port: master.port,
        database: master.database,
        username: master.username,
        sslmode: master.sslmode,
        sslmodeFrom: master.sslmodeFrom ?? 'default',
        ...(master.rds ? { rds: master.rds } : userRds ? { rds: userRds.ref } : {}),
      },
      password: master.password,
      source: 'secret',
    };
  }

  async #assertSameDatabase(
    master: PostgresSecret,
    user: PostgresSecret,
    userRds: RdsDatabase | undefined,
    where: string,
  ): Promise<void> {
    const mismatch = (detail: string) =>
      new EndpointMismatchError(
        `${where} and the user secret point at different databases (${detail}): master and user must point at the same database. Nothing was sent to either`,
      );
    if (
      master.rds &&
      userRds &&
      (master.rds.kind !== userRds.ref.kind || master.rds.identifier !== userRds.ref.identifier)
    ) {
      throw mismatch(`${describeRef(master.rds)} and ${describeRef(userRds.ref)}`);
    }
    const database = userRds ?? (master.rds ? await this.#options.rds.describe(master.rds) : undefined);
    if (database) {
      for (const [who, secret] of [
        ['the master', master],
        ['the user', user],
      ] as const) {
        if (!isEndpointOf(database, secret)) {
          throw mismatch(
            `${who}'s host ${secret.host}:${secret.port} is not an endpoint of ${describeRef(database.ref)}`,
          );
        }
      }
      return;
    }
    if (!sameHost(master.host, user.host) || master.port !== user.port) {
      throw mismatch(`${master.host}:${master.port} and ${user.host}:${user.port}`);
    }
  }
}
