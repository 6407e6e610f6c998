import {
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { RotationError } from '../rotation/errors.js';
import type { SecretDescription } from '../rotation/secret-store.js';
import type { RdsDatabaseRef } from './secret.js';

/** Base class of the errors about an RDS database or the RDS API. */
export class RdsError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RdsError';
  }
}

/** Thrown when the instance or cluster a secret names does not exist (in this account and region). */
export class RdsDatabaseNotFoundError extends RdsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RdsDatabaseNotFoundError';
  }
}

/**
 * Thrown when RDS itself manages a password: a rotation aimed at an RDS-managed secret
 * (`rds!db-…`, `rds!cluster-…`), or at the master user of a database whose master password
 * RDS manages (`ManageMasterUserPassword`).
 */
export class RdsManagedSecretError extends RdsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RdsManagedSecretError';
  }
}

/**
 * Thrown, before any password is sent, when a secret's host is not an endpoint of the RDS
 * database it names, or when a user secret and its master secret point at different databases.
 */
export class EndpointMismatchError extends RdsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EndpointMismatchError';
  }
}

/** Where a client connects. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** What the rotation needs to know about an RDS instance or cluster. */
export interface RdsDatabase {
  readonly ref: RdsDatabaseRef;
  readonly arn: string | undefined;
  /** The writer: the instance's endpoint, or the cluster's (writer) endpoint. */
  readonly writer: Endpoint;
  /** Every endpoint a secret may name: the writer, and a cluster's reader and custom endpoints. */
  readonly endpoints: readonly Endpoint[];
  readonly masterUsername: string | undefined;
  /** The secret RDS keeps the master password in, when RDS manages it. */
  readonly managedMasterSecretArn: string | undefined;
}

/** `dbInstanceIdentifier` or `dbClusterIdentifier`, as the secret names it. */
export function describeRef(ref: RdsDatabaseRef): string {
  return ref.kind === 'instance' ? `RDS instance ${ref.identifier}` : `RDS cluster ${ref.identifier}`;
}

/** Host names compare without case and without a trailing dot. */
export function sameHost(a: string, b: string): boolean {
  return a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
}

/** True when `host:port` is one of the database's endpoints. */
export function isEndpointOf(database: RdsDatabase, target: Endpoint): boolean {
  return database.endpoints.some((e) => sameHost(e.host, target.host) && e.port === target.port);
}

const MANAGED_TAGS = {
  'aws:rds:primaryDBInstanceArn': 'instance',
  'aws:rds:primaryDBClusterArn': 'cluster',
} as const;

/**
 * The database an RDS-managed secret belongs to, from its tags (`aws:rds:primaryDBInstanceArn`,
 * `aws:rds:primaryDBClusterArn`); `{ ref: undefined }` for a secret named `rds!…` without
 * them; `undefined` for a secret RDS does not manage.
 */
export function rdsManagedSecretOwner(
  secret: Pick<SecretDescription, 'name' | 'tags'>,
): { ref: RdsDatabaseRef | undefined; arn: string | undefined } | undefined {
  for (const [tag, kind] of Object.entries(MANAGED_TAGS)) {
    const arn = secret.tags[tag];
    if (!arn) continue;
    const identifier = arn.split(':').at(-1);
    return { ref: identifier ? { kind, identifier } : undefined, arn };
  }
  return secret.name.startsWith('rds!') ? { ref: undefined, arn: undefined } : undefined;
}

/** The RDS API calls the rotation makes: describe a database, set its master password. */
export class RdsDatabases {
  readonly #client: RDSClient;

  constructor(client: RDSClient) {
    this.#client = client;
  }

  /** DescribeDBInstances or DescribeDBClusters for one database. */
  async describe(ref: RdsDatabaseRef): Promise<RdsDatabase> {
    return ref.kind === 'instance' ? this.#instance(ref) : this.#cluster(ref);
  }

  /**
   * Sets the master password (ModifyDBInstance or ModifyDBCluster, applied at once). RDS
   * applies it asynchronously: the caller waits for the new password to log in.
   */
  async setMasterPassword(ref: RdsDatabaseRef, password: string): Promise<void> {
    const what = `set the master password of ${describeRef(ref)}`;
    // The error's message is not kept: an API's complaint about a parameter may quote it.
    const fail = (error: unknown): never => {
      throw new RdsError(`RDS could not ${what}: ${error instanceof Error ? error.name : 'UnknownError'}`, {
        cause: error,
      });
    };
    if (ref.kind === 'instance') {
      await this.#client
        .send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: ref.identifier,
            MasterUserPassword: password,
            ApplyImmediately: true,
          }),
        )
        .catch(fail);
    } else {
      await this.#client
        .send(
          new ModifyDBClusterCommand({
            DBClusterIdentifier: ref.identifier,
            MasterUserPassword: password,
            ApplyImmediately: true,
          }),
        )
        .catch(fail);
    }
  }

  async #instance(ref: RdsDatabaseRef): Promise<RdsDatabase> {
    const out = await this.#call(ref, () =>
      this.#client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: ref.identifier })),
    );
    const instance = out.DBInstances?.find((i) => i.DBInstanceIdentifier === ref.identifier);
    if (!instance) throw notFound(ref);
    const host = instance.Endpoint?.Address;
    const port = instance.Endpoint?.Port ?? instance.DbInstancePort;
    if (!host || !port) {
      throw new RdsError(
        `${describeRef(ref)} has no endpoint yet (status ${instance.DBInstanceStatus ?? 'unknown'}): rotate once it is available`,
      );
    }
    const writer = { host, port };
    return {
      ref,
      arn: instance.DBInstanceArn,
      writer,
      endpoints: [writer],
      masterUsername: instance.MasterUsername,
      managedMasterSecretArn: instance.MasterUserSecret?.SecretArn,
    };
  }

  async #cluster(ref: RdsDatabaseRef): Promise<RdsDatabase> {
    const out = await this.#call(ref, () =>
      this.#client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: ref.identifier })),
    );
    const cluster = out.DBClusters?.find((c) => c.DBClusterIdentifier === ref.identifier);
    if (!cluster) throw notFound(ref);
    const port = cluster.Port;
    if (!cluster.Endpoint || !port) {
      throw new RdsError(
        `${describeRef(ref)} has no endpoint yet (status ${cluster.Status ?? 'unknown'}): rotate once it is available`,
      );
    }
    const writer = { host: cluster.Endpoint, port };
    const others = [cluster.ReaderEndpoint, ...(cluster.CustomEndpoints ?? [])].filter(
      (host): host is string => typeof host === 'string' && host.length > 0,
    );
    return {
      ref,
      arn: cluster.DBClusterArn,
      writer,
      endpoints: [writer, ...others.map((host) => ({ host, port }))],
      masterUsername: cluster.MasterUsername,
      managedMasterSecretArn: cluster.MasterUserSecret?.SecretArn,
    };
  }

  async #call<T>(ref: RdsDatabaseRef, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof DBInstanceNotFoundFault || error instanceof DBClusterNotFoundFault) {
        throw notFound(ref, error);
      }
      const name = error instanceof Error ? error.name : 'UnknownError';
      const message = error instanceof Error ? error.message : String(error);
      throw new RdsError(`RDS could not describe ${describeRef(ref)}: ${name}: ${message}`, { cause: error });
    }
  }
}

function notFound(ref: RdsDatabaseRef, cause?: unknown): RdsDatabaseNotFoundError {
  const field = ref.kind === 'instance' ? 'dbInstanceIdentifier' : 'dbClusterIdentifier';
  return new RdsDatabaseNotFoundError(
    `${describeRef(ref)} (the secret's ${field}) does not exist in this account and region: fix the field; nothing was changed`,
    cause === undefined ? undefined : { cause },
  );
}
