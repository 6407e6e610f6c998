/**
 * Review 9, finding: the database getter's `connectionString` re-encodes the other parameters
 * of the secret's own `connection_string` as a form (URLSearchParams: `%20` becomes `+`).
 * libpq decodes only `%XX` in a URI, so for psql, psycopg and every libpq driver a space
 * becomes a literal `+`: `options=-c%20statement_timeout%3D5000` reaches the server as
 * `-c+statement_timeout=5000`, and `application_name=muejam%20web` as `muejam+web`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createSecrets } from '../../shared/secrets/index.js';
import { createRole, seedDatabaseSecret, stack, uniqueName } from '../support/bed.js';
import { roleName } from '../support/databases.js';

const run = promisify(execFile);

describe("the database getter's connectionString (review 9)", () => {
  it("keeps the other parameters of the secret's connection_string as libpq reads them", async () => {
    // Prepare: a seed secret whose connection_string carries two parameters with spaces.
    const username = roleName('r9_params');
    const password = `pw-${uniqueName('x')}`;
    await createRole(username, password);
    const seed = seedDatabaseSecret({ username, password });
    const url = new URL(seed.connection_string);
    const connectionString = `${url.toString()}?application_name=muejam%20web&options=-c%20statement_timeout%3D5000`;
    const environment = uniqueName('prod');
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: stack().awsEndpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await client.send(
      new CreateSecretCommand({
        Name: `${environment}/database/primary`,
        SecretString: JSON.stringify({ ...seed, connection_string: connectionString }),
      }),
    );
    const secrets = createSecrets({ client, env: { ENVIRONMENT: environment }, logger: new Logger() });

    // Act: psql with the secret's own connection_string (control), then with the ready one.
    const ask = (uri: string) =>
      run(
        'psql',
        [
          uri,
          '-XAtc',
          'SELECT current_setting($$application_name$$), current_setting($$statement_timeout$$)',
        ],
        {
          env: { PATH: process.env.PATH ?? '' },
        },
      ).then(
        (out) => out.stdout.trim(),
        (error: { stderr?: string }) => `psql failed: ${error.stderr?.trim()}`,
      );
    const own = await ask(`${connectionString}&sslmode=disable`);
    const ready = await ask((await secrets.database()).connectionString);

    // Assess
    expect(own).toBe('muejam web|5s');
    expect(ready).toBe(own);
  });
});
