/**
 * The deployed enforcer and worker pace RotateSecret at ENFORCE_STARTS_PER_SECOND: their
 * production dependencies are built from the environment as the deployed handlers build them,
 * and their Secrets Manager clients send to the moto server while the limiter waits on a
 * virtual clock.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CancelRotateSecretCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deployedEnforcerDependencies } from '../../functions/enforce-rotation-policy/handler.js';
import { deployedWorkerDependencies } from '../../functions/enforce-rotation-policy-worker/handler.js';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import { SECRETS_MANAGER_QUOTAS } from '../../shared/fleet/index.js';
import { VERSION_WRITES_PER_ROTATION } from '../../shared/rotation/index.js';
import {
  createRole,
  createRotatingSecret,
  hostilePassword,
  runSteps,
  secretsManager,
  seedDatabaseSecret,
  stack,
  uniqueName,
} from '../support/bed.js';
import { virtualClock } from '../support/clock.js';
import { countCommands } from '../support/sdk-calls.js';

const logger = new Logger({ serviceName: 'enforce-pace-e2e', logLevel: 'SILENT' });

/**
 * Sends `calls` rotation-quota calls (RotateSecret, then one CancelRotateSecret) for a secret
 * that does not exist: each reaches moto and is refused, so each is exactly one attempt.
 */
async function rotationCalls(client: SecretsManagerClient, calls: number): Promise<string[]> {
  const secretId = uniqueName('production/database/absent');
  const errors: string[] = [];
  for (let i = 0; i < calls; i++) {
    const command =
      i < calls - 1
        ? new RotateSecretCommand({ SecretId: secretId, RotateImmediately: true })
        : new CancelRotateSecretCommand({ SecretId: secretId });
    errors.push(
      await client.send(command).then(
        () => 'sent',
        (error: Error) => error.name,
      ),
    );
  }
  return errors;
}

beforeEach(() => {
  // The deployed clients take region, endpoint and credentials from the environment, as in Lambda.
  vi.stubEnv('AWS_ENDPOINT_URL', stack().awsEndpoint);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('ENVIRONMENT', 'production');
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the deployed enforceRotationPolicyWorker', () => {
  it('sends RotateSecret and CancelRotateSecret at its share of ENFORCE_STARTS_PER_SECOND', async () => {
    // Prepare: 20 starts a second across 4 workers: 5/s each, one every 200 ms
    vi.stubEnv('ENFORCE_STARTS_PER_SECOND', '20');
    vi.stubEnv('ENFORCE_WORKER_CONCURRENCY', '4');
    const clock = virtualClock();
    const deps = deployedWorkerDependencies(logger, process.env, clock);

    // Act
    const answers = await rotationCalls(deps.secretsManager, 4);

    // Assess: every call reached moto, and the limiter spaced them at 5/s
    expect(deps.config.startsPerSecond).toBe(20);
    expect(answers).toEqual(Array.from({ length: 4 }, () => 'ResourceNotFoundException'));
    expect(clock.waits).toEqual([200, 200, 200]);
  });

  it('sends RotateSecret at 2/s by default: 10/s across 5 workers', async () => {
    // Prepare
    const clock = virtualClock();
    const deps = deployedWorkerDependencies(logger, process.env, clock);

    // Act
    const answers = await rotationCalls(deps.secretsManager, 3);

    // Assess
    expect(answers).toEqual(Array.from({ length: 3 }, () => 'ResourceNotFoundException'));
    expect(clock.waits).toEqual([500, 500]);
  });
});

describe('the deployed enforceRotationPolicy', () => {
  it('sends RotateSecret and CancelRotateSecret at ENFORCE_STARTS_PER_SECOND', async () => {
    // Prepare: 20/s, one every 50 ms after a burst of 2 (0.1 s worth)
    vi.stubEnv('ENFORCE_STARTS_PER_SECOND', '20');
    const clock = virtualClock();
    const deps = deployedEnforcerDependencies(logger, process.env, clock);

    // Act
    const answers = await rotationCalls(deps.secretsManager, 4);

    // Assess
    expect(deps.config.startsPerSecond).toBe(20);
    expect(answers).toEqual(Array.from({ length: 4 }, () => 'ResourceNotFoundException'));
    expect(clock.waits).toEqual([50, 50]);
  });

  it('sends RotateSecret at 10/s by default', async () => {
    // Prepare
    const clock = virtualClock();
    const deps = deployedEnforcerDependencies(logger, process.env, clock);

    // Act
    const answers = await rotationCalls(deps.secretsManager, 3);

    // Assess
    expect(answers).toEqual(Array.from({ length: 3 }, () => 'ResourceNotFoundException'));
    expect(clock.waits).toEqual([100, 100]);
  });

  it('refuses ENFORCE_STARTS_PER_SECOND above the 50/s quota with a ConfigurationError naming it', () => {
    // Prepare
    vi.stubEnv('ENFORCE_STARTS_PER_SECOND', '60');

    // Act / Assess
    expect(() => deployedEnforcerDependencies(logger)).toThrow(
      'environment variable ENFORCE_STARTS_PER_SECOND must be an integer from 1 to 50',
    );
  });
});

describe('VERSION_WRITES_PER_ROTATION, the writes the default pace is derived from', () => {
  it('is what one rotation by rotateDatabase sends against the PutSecretValue/UpdateSecretVersionStage quota', async () => {
    // Prepare: a seed-shaped secret, its rotation started, and a counted client for the function
    const client = secretsManager();
    const username = uniqueName('app_user');
    const password = hostilePassword();
    await createRole(username, password);
    const { arn, token } = await createRotatingSecret(
      client,
      uniqueName('production/database/primary'),
      seedDatabaseSecret({ username, password }),
    );
    const counted = secretsManager();
    const calls = countCommands(counted);
    const handler = buildRotateDatabaseHandler({
      config: loadDatabaseRotationConfig({}),
      secretsManager: counted,
      logger,
    });

    // Act: the four steps, as Secrets Manager invokes them
    const results = await runSteps(handler, arn, token);

    // Assess: the rotation completed, with three writes of the quota's APIs
    expect(results.map((r) => (r as { outcome: string }).outcome)).toEqual(['done', 'done', 'done', 'done']);
    const writes = SECRETS_MANAGER_QUOTAS.versionWrites.commands.map((name) => calls.count(`${name}Command`));
    expect(writes.reduce((a, b) => a + b, 0)).toBe(VERSION_WRITES_PER_ROTATION);
    expect(calls.count('PutSecretValueCommand')).toBe(1);
    expect(calls.count('UpdateSecretVersionStageCommand')).toBe(2);
  });
});
