import { Logger } from '@aws-lambda-powertools/logger';
import { CreateDBClusterCommand, CreateDBInstanceCommand, type RDSClient } from '@aws-sdk/client-rds';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import {
  canLogin,
  captureOutput,
  createRotatingSecret,
  findLeaks,
  hostilePassword,
  runSteps,
  secretsManager,
  stack,
  stagesOf,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { createMasterRole, rdsClient, routedConnector, sql } from '../support/databases.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * moto accepts ModifyDBInstance and ModifyDBCluster without effect on any database, so the
 * RDS client here also does what RDS does, a little later (RDS applies the change
 * asynchronously): it sets the real PostgreSQL's master password. Every call is recorded.
 */
interface ModifyCall {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

function rdsThatApplies(options: { applyAfterMs: number; apply: boolean }): {
  client: RDSClient;
  calls: ModifyCall[];
} {
  const client = rdsClient();
  const calls: ModifyCall[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const command = context.commandName ?? '';
      if (command === 'ModifyDBInstanceCommand' || command === 'ModifyDBClusterCommand') {
        const input = args.input as Record<string, unknown>;
        calls.push({ command, input });
        const role = String(masterOf.get(String(input.DBInstanceIdentifier ?? input.DBClusterIdentifier)));
        if (options.apply) {
          setTimeout(() => {
            void sql(
              `DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', '${role}', ${dollarQuote(String(input.MasterUserPassword))}); END $$`,
            );
          }, options.applyAfterMs);
        }
      }
      return result;
    },
    { step: 'initialize', name: 'rdsThatApplies' },
  );
  return { client, calls };
}

/** A dollar-quoted literal that cannot be closed by the value (generated passwords have no `$q$`). */
const dollarQuote = (value: string) => `$q$${value}$q$`;

/** Database identifier → its master role in the local PostgreSQL. */
const masterOf = new Map<string, string>();

const sm = secretsManager();
let output: ReturnType<typeof captureOutput>;
let seen: string[];
let proxy: TcpProxy;

beforeAll(async () => {
  proxy = await startTcpProxy({ host: stack().postgres.host, port: stack().postgres.port });
});
afterAll(async () => proxy.close());
beforeEach(() => {
  seen = [];
  output = captureOutput();
});
afterEach(() => {
  output.stop();
  expect(findLeaks(output.text(), seen), 'secret values in captured output').toEqual([]);
});

type Kind = 'instance' | 'cluster';

/** An RDS database on moto whose master user is a real role of the local PostgreSQL, and its secret. */
async function masterSecret(
  kind: Kind,
  options: {
    managed?: boolean;
    host?: 'endpoint' | 'reader' | 'loopback';
    username?: string;
    /** What the secret holds as the password (the master's own by default). */
    password?: string;
  } = {},
) {
  const master = await createMasterRole();
  seen.push(master.password);
  const id = uniqueName(`production-${kind}`);
  masterOf.set(id, master.username);
  const rds = rdsClient();
  let endpoint: string;
  let reader: string | undefined;
  if (kind === 'instance') {
    const out = await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        MasterUsername: master.username,
        ...(options.managed ? { ManageMasterUserPassword: true } : { MasterUserPassword: 'unused-by-moto' }),
        AllocatedStorage: 20,
        Port: proxy.port,
      }),
    );
    endpoint = out.DBInstance?.Endpoint?.Address ?? '';
  } else {
    const out = await rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: id,
        Engine: 'aurora-postgresql',
        MasterUsername: master.username,
        MasterUserPassword: 'unused-by-moto',
        Port: proxy.port,
      }),
    );
    endpoint = out.DBCluster?.Endpoint ?? '';
    reader = out.DBCluster?.ReaderEndpoint;
  }
  const host =
    options.host === 'loopback'
      ? stack().postgres.host
      : options.host === 'reader'
        ? (reader ?? '')
        : endpoint;
  const value = {
    engine: 'postgres',
    host,
    port: proxy.port,
    username: options.username ?? master.username,
    password: options.password ?? master.password,
    dbname: 'postgres',
    ssl: false,
    [kind === 'instance' ? 'dbInstanceIdentifier' : 'dbClusterIdentifier']: id,
  };
  const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/master'), value);
  const routes = Object.fromEntries(
    [endpoint, reader]
      .filter((h): h is string => !!h)
      .map((h) => [h.toLowerCase(), { host: stack().postgres.host, port: proxy.port }]),
  );
  return { id, master, arn, token, value, routes };
}

function handler(
  routes: Record<string, { host: string; port: number }>,
  rds: RDSClient,
  env: Record<string, string> = {},
) {
  const config = loadDatabaseRotationConfig({
    RDS_PASSWORD_WAIT_SECONDS: '10',
    RDS_PASSWORD_WAIT_INTERVAL_MS: '100',
    ...env,
  });
  const connector = routedConnector(routes, config.database);
  return {
    connector,
    handler: buildRotateDatabaseHandler({
      config,
      secretsManager: sm,
      rds,
      connector,
      logger: new Logger({ serviceName: 'rotation-rds-master', logLevel: 'DEBUG' }),
    }),
  };
}

describe('rotateDatabase, RDS master password (dbInstanceIdentifier, dbClusterIdentifier)', () => {
  it.each([
    ['instance', 'ModifyDBInstanceCommand', 'DBInstanceIdentifier', 128],
    ['cluster', 'ModifyDBClusterCommand', 'DBClusterIdentifier', 41],
  ] as const)(
    'sets an RDS %s master password with %s, and testSecret waits until it logs in',
    async (kind, command, idField, maxLength) => {
      // Prepare: RDS applies the new password 600 ms after the call.
      const s = await masterSecret(kind);
      const rds = rdsThatApplies({ applyAfterMs: 600, apply: true });
      const { handler: h } = handler(s.routes, rds.client);

      // Act
      await runSteps(h, s.arn, s.token);

      // Assess: one call, for this database, applied at once, with the stored password.
      const current = await valueAt(sm, s.arn, 'AWSCURRENT');
      seen.push(current?.password ?? '');
      expect(rds.calls).toEqual([
        {
          command,
          input: { [idField]: s.id, MasterUserPassword: current?.password, ApplyImmediately: true },
        },
      ]);
      expect((current?.password ?? '').length).toBeLessThanOrEqual(maxLength);
      expect(current?.password).not.toMatch(/[/"@ ]/);
      expect(await canLogin(s.master.username, current?.password ?? '')).toBe(true);
      expect(await canLogin(s.master.username, s.master.password)).toBe(false);
      const waited = output.text().match(/"message":"the new master password logs in".*?"attempts":(\d+)/);
      expect(Number(waited?.[1])).toBeGreaterThan(1);
      expect(Object.keys(current ?? {}).sort()).toEqual([...Object.keys(s.value), 'rotated_at'].sort());
    },
  );

  it('accepts a cluster reader endpoint as the secret host', async () => {
    const s = await masterSecret('cluster', { host: 'reader' });
    const rds = rdsThatApplies({ applyAfterMs: 100, apply: true });
    await runSteps(handler(s.routes, rds.client).handler, s.arn, s.token);
    const current = await valueAt(sm, s.arn, 'AWSCURRENT');
    seen.push(current?.password ?? '');
    expect(rds.calls).toHaveLength(1);
    expect(await canLogin(s.master.username, current?.password ?? '')).toBe(true);
  });

  it('fails testSecret when RDS has not applied the password within the bound, and AWSCURRENT stays', async () => {
    const s = await masterSecret('instance');
    const rds = rdsThatApplies({ applyAfterMs: 0, apply: false });
    const { handler: h } = handler(s.routes, rds.client, { RDS_PASSWORD_WAIT_SECONDS: '1' });
    await runSteps(h, s.arn, s.token, ['createSecret', 'setSecret']);
    seen.push((await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '');
    const stages = await stagesOf(sm, s.arn);

    const error = await runSteps(h, s.arn, s.token, ['testSecret']).catch((e: unknown) => e);

    expect(rds.calls).toHaveLength(1);
    expect(error).toMatchObject({ name: 'PendingTestFailedError' });
    expect((error as Error).message).toMatch(
      /does not log in .* after \d+ attempts in 1 s: RDS applies it asynchronously/,
    );
    expect(await stagesOf(sm, s.arn)).toEqual(stages);

    // RDS applies it later; Secrets Manager's retry of setSecret finds it done, and the rotation completes.
    const pending = (await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '';
    await sql(
      `DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', '${s.master.username}', ${dollarQuote(pending)}); END $$`,
    );
    const retry = (await runSteps(h, s.arn, s.token, ['setSecret', 'testSecret', 'finishSecret'])) as {
      outcome: string;
    }[];
    expect(retry.map((r) => r.outcome)).toEqual(['already-done', 'done', 'done']);
    expect(rds.calls).toHaveLength(1);
    expect(await canLogin(s.master.username, (await valueAt(sm, s.arn, 'AWSCURRENT'))?.password ?? '')).toBe(
      true,
    );
  });

  it("calls no ModifyDBInstance for a secret whose AWSCURRENT password is not the master's, and the master's own password keeps working", async () => {
    // Prepare: a secret that names the database and its master user, without the master's password.
    const guess = hostilePassword();
    seen.push(guess);
    const s = await masterSecret('instance', { password: guess });
    const rds = rdsThatApplies({ applyAfterMs: 0, apply: true });
    const { handler: h } = handler(s.routes, rds.client);
    await runSteps(h, s.arn, s.token, ['createSecret']);
    seen.push((await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '');

    // Act
    const error = await runSteps(h, s.arn, s.token, ['setSecret']).catch((e: unknown) => e);

    // Assess: refused before RDS is asked for anything.
    expect(error).toMatchObject({ name: 'NoWorkingCredentialError' });
    expect((error as Error).message).toContain(
      `as the master user of RDS instance ${s.id}: nothing proves this secret holds the master password, so RDS is not asked to replace it`,
    );
    expect(rds.calls).toEqual([]);
    expect(await canLogin(s.master.username, s.master.password)).toBe(true);
  });

  it("rotates a user who is not the database's master as a single user, calling no RDS Modify", async () => {
    const s = await masterSecret('instance');
    const user = await createMasterRole();
    seen.push(user.password);
    const value = { ...s.value, username: user.username, password: user.password };
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/user'), value);
    const rds = rdsThatApplies({ applyAfterMs: 0, apply: true });

    await runSteps(handler(s.routes, rds.client).handler, arn, token);

    const current = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(current?.password ?? '');
    expect(rds.calls).toEqual([]);
    expect(await canLogin(user.username, current?.password ?? '')).toBe(true);
    expect(await canLogin(s.master.username, s.master.password)).toBe(true);
  });

  it('refuses a database whose master password RDS manages, before any connection', async () => {
    const s = await masterSecret('instance', { managed: true });
    const rds = rdsThatApplies({ applyAfterMs: 0, apply: true });
    const { handler: h } = handler(s.routes, rds.client);
    await runSteps(h, s.arn, s.token, ['createSecret']);
    seen.push((await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '');
    const before = proxy.connections;

    const error = await runSteps(h, s.arn, s.token, ['setSecret']).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'RdsManagedSecretError' });
    expect((error as Error).message).toContain('--rotate-master-user-password');
    expect(rds.calls).toEqual([]);
    expect(proxy.connections - before).toBe(0);
    expect(await canLogin(s.master.username, s.master.password)).toBe(true);
  });

  it("aborts setSecret and testSecret before any connection when the host is not the database's endpoint", async () => {
    // Prepare: the host is a real, reachable address, but not the instance's endpoint.
    const s = await masterSecret('instance', { host: 'loopback' });
    const rds = rdsThatApplies({ applyAfterMs: 0, apply: true });
    const { handler: h, connector } = handler(s.routes, rds.client);
    await runSteps(h, s.arn, s.token, ['createSecret']);
    seen.push((await valueAt(sm, s.arn, 'AWSPENDING'))?.password ?? '');
    const before = proxy.connections;

    const errors = [
      await runSteps(h, s.arn, s.token, ['setSecret']).catch((e: unknown) => e),
      await runSteps(h, s.arn, s.token, ['testSecret']).catch((e: unknown) => e),
    ];

    for (const error of errors) {
      expect(error).toMatchObject({ name: 'EndpointMismatchError' });
      expect((error as Error).message).toContain(
        `is not an endpoint of RDS instance ${s.id} (its dbInstanceIdentifier)`,
      );
      expect((error as Error).message).toContain('no password was sent anywhere');
    }
    expect(proxy.connections - before).toBe(0);
    expect(connector.connected).toEqual([]);
    expect(rds.calls).toEqual([]);
    expect(await canLogin(s.master.username, s.master.password)).toBe(true);
  });

  it("refuses a password policy the cluster's master user cannot take, at createSecret, storing nothing", async () => {
    const s = await masterSecret('cluster');
    const rds = rdsThatApplies({ applyAfterMs: 0, apply: true });
    const { handler: h } = handler(s.routes, rds.client, { PASSWORD_LENGTH: '64' });

    const error = await runSteps(h, s.arn, s.token, ['createSecret']).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'InvalidPasswordPolicyError' });
    expect((error as Error).message).toContain(
      "an RDS cluster's master user (ModifyDBCluster): length 64 is outside 16 to 41",
    );
    expect(await valueAt(sm, s.arn, 'AWSPENDING')).toBeUndefined();
  });
});
