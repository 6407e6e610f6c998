/**
 * Review 9, finding: a retrieval attempt that fails before Secrets Manager is asked leaves no
 * audit line. `resolveSecretId` (ENVIRONMENT unset, a name that is not one segment) throws
 * outside the audited block of `Secrets.#read`, so the "every retrieval attempt,
 * success or failure, goes to the audit log" does not hold for the seed's most common
 * misconfiguration ("Check the secret name matches the expected format").
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createSecrets } from '../../shared/secrets/index.js';
import { auditLines } from '../support/audit-lines.js';
import { LeakWatch } from '../support/leak-watch.js';

/** Never called: both attempts fail before a request. */
const client = () => new SecretsManagerClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1' });

describe('audit lines of attempts that fail before Secrets Manager (review 9)', () => {
  it.each([
    ['ENVIRONMENT is unset', {}, (s: ReturnType<typeof createSecrets>) => s.resend()],
    [
      'the name is not one segment',
      { ENVIRONMENT: 'production' },
      (s: ReturnType<typeof createSecrets>) => s.database({ name: 'primary replica' }),
    ],
  ] as const)('writes one failure line when %s', async (_title, env, read) => {
    // Prepare
    const watch = new LeakWatch();
    const secrets = createSecrets({ client: client(), env, logger: new Logger({ serviceName: 'review9' }) });

    // Act
    const error = await read(secrets).catch((e: Error) => e);
    const lines = auditLines(watch.text());
    watch.stop();

    // Assess: the attempt failed, and the audit log must say so.
    expect(error).toMatchObject({ name: 'ConfigurationError' });
    expect(lines).toEqual([
      expect.objectContaining({ audit: 'secret-access', outcome: expect.not.stringMatching(/^success$/) }),
    ]);
  });
});
