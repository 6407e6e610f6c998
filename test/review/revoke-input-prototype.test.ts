/**
 * Review finding (rule 10): the revoke input's VersionId is looked up in a plain object, so a
 * VersionId that names an Object.prototype member (`constructor`, `toString`) gets a
 * TypeError (redacted to "TypeError: its message is withheld") instead of the typed
 * "not a version of secret …" error.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { buildRotateApiKeyHandler } from '../../functions/rotate-api-key/handler.js';
import { loadApiKeyRotationConfig } from '../../shared/config/index.js';
import { captureOutput, lambdaContext, secretsManager, uniqueName } from '../support/bed.js';

describe('rotateApiKey revoke input (review, rule 10)', () => {
  it.each(['constructor', 'toString', '__proto__'])(
    'answers VersionId %s with UnknownVersionError, changing nothing',
    async (versionId) => {
      // Prepare
      const sm = secretsManager();
      const out = await sm.send(
        new CreateSecretCommand({
          Name: `production/api-keys/resend-${uniqueName('p')}`,
          SecretString: JSON.stringify({ api_key: 're_abcdefghijklmnop', api_key_id: 'k1' }),
        }),
      );
      const handler = buildRotateApiKeyHandler({
        config: loadApiKeyRotationConfig({}),
        secretsManager: sm,
        logger: new Logger({ serviceName: 'review', logLevel: 'ERROR' }),
      });
      const output = captureOutput();

      // Act
      const error = await handler(
        { action: 'revoke', SecretId: out.ARN, VersionId: versionId },
        lambdaContext,
      ).then(
        () => undefined,
        (e: Error) => e,
      );
      output.stop();

      // Assess
      expect(error?.name, error?.message).toBe('UnknownVersionError');
    },
  );
});
