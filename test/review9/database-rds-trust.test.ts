/**
 * Review 9, finding: the database getter's ready `pg` config and `connectionString` do not
 * trust the RDS bundle the rotation ships, so the seed's own database
 * (`your-db-host.rds.amazonaws.com`, no sslmode: verify-full) cannot be reached with them,
 * although the README says `pg` sets TLS "exactly as the rotation connects".
 *
 * The server is the test bed's TLS PostgreSQL, reached under an RDS endpoint name; the
 * function root's RDS bundle is the test bed's CA (as in rotate-database-templates.test.ts),
 * so the rotation's connector verifies it. The application's `pg` config, built from the same
 * secret, is then used against the same server.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import { RDS_CA_BUNDLE_FILE } from '../../shared/postgres/index.js';
import { createSecrets } from '../../shared/secrets/index.js';
import { createRole, hostilePassword, stack, uniqueName } from '../support/bed.js';
import { roleName, routedConnector } from '../support/databases.js';

let root: string | undefined;

afterEach(async () => {
  vi.unstubAllEnvs();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the database getter for an RDS host (review 9)', () => {
  it('gives a pg config that verifies the RDS server the rotation verifies', async () => {
    // Prepare: a function root whose RDS bundle is the test bed's CA; the seed's secret shape
    // (no sslmode) with an RDS endpoint as host.
    root = await mkdtemp(join(tmpdir(), 'review9-root-'));
    await mkdir(join(root, RDS_CA_BUNDLE_FILE, '..'), { recursive: true });
    await copyFile(stack().postgres.caFile, join(root, RDS_CA_BUNDLE_FILE));
    vi.stubEnv('LAMBDA_TASK_ROOT', root);
    const username = roleName('r9_rds');
    const password = hostilePassword();
    await createRole(username, password);
    const host = `${uniqueName('muejam')}.abcdefghijkl.us-east-1.rds.amazonaws.com`;
    const environment = uniqueName('prod');
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: stack().awsEndpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await client.send(
      new CreateSecretCommand({
        Name: `${environment}/database/primary`,
        SecretString: JSON.stringify({
          host,
          port: String(stack().postgres.port),
          database: 'postgres',
          username,
          password,
        }),
      }),
    );
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: new Logger() });
    const route = { host: stack().postgres.host, port: stack().postgres.port };

    // Act: the rotation's connector (control), then the application's pg config, same server.
    const database = await secrets.database();
    const rotation = routedConnector({ [host]: route }, loadDatabaseRotationConfig({}).database);
    const session = await rotation.connect(database, password);
    await session.close();
    const app = new pg.Client({ ...database.pg, ...route });
    app.on('error', () => undefined);
    const appError = await app.connect().then(
      () => undefined,
      (error: Error) => error,
    );
    await app.end().catch(() => undefined);

    // Assess: the rotation connected (verify-full against the bundle); the application must too.
    expect(database.sslmode).toBe('verify-full');
    expect(
      appError?.message,
      'the application pg config refuses the server the rotation trusts',
    ).toBeUndefined();
    expect(new URL(database.connectionString).searchParams.get('sslrootcert')).not.toBeNull();
  });
});
