/**
 * Review 9, finding: `DATABASE_URL` (the seed's development variable) is not read as libpq
 * and node-postgres read it. A percent-encoded host (libpq's way to name a Unix-socket
 * directory in the host part) is kept encoded, so `pg` is handed the host name
 * `%2Fvar%2Frun%2Fpostgresql`; the `host`, `user` and `password` query parameters (libpq's
 * other way) are ignored, so a URL psql accepts is refused as missing its host, user and
 * password.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createSecrets } from '../../shared/secrets/index.js';

/** Never called: USE_SECRETS_MANAGER=False. */
const client = () => new SecretsManagerClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1' });

describe('DATABASE_URL with USE_SECRETS_MANAGER=False (review 9)', () => {
  it.each([
    [
      'a percent-encoded socket directory as host',
      'postgresql://muejam_user:pw@%2Fvar%2Frun%2Fpostgresql/muejam?sslmode=disable',
    ],
    [
      'host, user and password as query parameters',
      'postgresql:///muejam?host=/var/run/postgresql&user=muejam_user&password=pw&sslmode=disable',
    ],
  ])('gives the fields libpq reads from %s', async (_title, url) => {
    // Prepare
    const secrets = createSecrets({
      client: client(),
      env: { USE_SECRETS_MANAGER: 'False', ENVIRONMENT: 'development', DATABASE_URL: url },
      logger: new Logger({ serviceName: 'review9', logLevel: 'SILENT' }),
    });

    // Act
    const database = await secrets.database().catch((error: Error) => error);

    // Assess
    expect(database).toMatchObject({
      host: '/var/run/postgresql',
      database: 'muejam',
      username: 'muejam_user',
      pg: { host: '/var/run/postgresql', user: 'muejam_user' },
    });
  });
});
