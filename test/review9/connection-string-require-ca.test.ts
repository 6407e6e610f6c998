/**
 * Review 9, finding: with `sslmode: require` and `DB_TLS_CA_FILE` set, the database getter's
 * two ready forms disagree on verification. `pg` verifies the certificate chain against the
 * CA (as libpq does when a root certificate is present), but `connectionString` carries no
 * `sslrootcert`, so psql and every libpq driver connect without verifying anything, although
 * the README says the string has "`sslrootcert` when `DB_TLS_CA_FILE` is set".
 *
 * The server: the test bed's PostgreSQL, whose certificate the configured CA (the shipped RDS
 * bundle) did not sign.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { RDS_CA_BUNDLE_FILE } from '../../shared/postgres/index.js';
import { createSecrets } from '../../shared/secrets/index.js';
import { createRole, seedDatabaseSecret, stack, uniqueName } from '../support/bed.js';
import { roleName } from '../support/databases.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

describe('the database getter with sslmode require and DB_TLS_CA_FILE (review 9)', () => {
  it('refuses a server the CA did not sign through connectionString, as through pg', async () => {
    // Prepare
    const username = roleName('r9_req');
    const password = `pw-${uniqueName('x')}`;
    await createRole(username, password);
    const environment = uniqueName('prod');
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: stack().awsEndpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await client.send(
      new CreateSecretCommand({
        Name: `${environment}/database/primary`,
        SecretString: JSON.stringify(
          seedDatabaseSecret({ username, password, extra: { sslmode: 'require' } }),
        ),
      }),
    );
    const secrets = createSecrets({
      client,
      env: { ENVIRONMENT: environment, DB_TLS_CA_FILE: join(ROOT, RDS_CA_BUNDLE_FILE) },
      logger: new Logger(),
    });
    const database = await secrets.database();

    // Act
    const viaPg = new pg.Client(database.pg);
    viaPg.on('error', () => undefined);
    const pgOutcome = await viaPg.connect().then(
      () => 'connected',
      () => 'refused',
    );
    await viaPg.end().catch(() => undefined);
    const libpqOutcome = await run('psql', [database.connectionString, '-XAtc', 'SELECT 1'], {
      env: { PATH: process.env.PATH ?? '' },
    }).then(
      () => 'connected',
      () => 'refused',
    );

    // Assess: pg verifies the chain and refuses; the connection string must do the same.
    expect(pgOutcome).toBe('refused');
    expect(libpqOutcome).toBe(pgOutcome);
    expect(new URL(database.connectionString).searchParams.get('sslrootcert')).toBe(
      join(ROOT, RDS_CA_BUNDLE_FILE),
    );
  });
});
