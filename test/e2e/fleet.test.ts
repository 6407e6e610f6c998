import {
  CreateSecretCommand,
  DeleteSecretCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import {
  BatchTooLargeError,
  createFleetClient,
  FleetReadError,
  readFleet,
  readRotatedAt,
} from '../../shared/fleet/index.js';
import { defaultPolicySettings } from '../../shared/policy/index.js';
import { secretsManager, stack, stagesOf } from '../support/bed.js';
import {
  createSeedSecret,
  recordBatchSizes,
  seedName,
  throttlingTransport,
  uniqueEnvironment,
} from '../support/fleet.js';

const motoConfig = () => ({
  region: 'us-east-1',
  endpoint: stack().awsEndpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
/** The production client (adaptive retry, quota limiter) pointed at moto. */
const fleetClient = (extra = {}) => createFleetClient({ config: { ...motoConfig(), ...extra } });

async function createMany(environment: string, count: number, rotatedDaysAgo?: number) {
  const client = secretsManager();
  const made = [];
  for (let i = 0; i < count; i++)
    made.push(
      await createSeedSecret(
        client,
        seedName(environment, i % 2 ? 'database' : 'resend', `-${i}`),
        i % 2 ? 'database' : 'resend',
        {
          ...(rotatedDaysAgo === undefined ? {} : { rotatedDaysAgo }),
        },
      ),
    );
  return made;
}

describe('readFleet', () => {
  it('lists only the managed prefixes and reads rotated_at in full batches of 20 filled across pages', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    await createMany(environment, 145, 10);
    const admin = secretsManager();
    await admin.send(new CreateSecretCommand({ Name: `${environment}/other/x`, SecretString: '{}' }));
    await admin.send(new CreateSecretCommand({ Name: `${environment}/databaseX/y`, SecretString: '{}' }));
    const client = fleetClient();
    const sizes = recordBatchSizes(client);

    // Act
    const { entries, calls } = await readFleet(client, defaultPolicySettings(environment));

    // Assess
    expect(entries).toHaveLength(145);
    expect(
      entries.every(
        (e) =>
          e.secret.name.startsWith(`${environment}/database/`) ||
          e.secret.name.startsWith(`${environment}/api-keys/`),
      ),
    ).toBe(true);
    expect(calls).toEqual({
      listSecrets: 2,
      batchGetSecretValue: 8,
      listSecretVersionIds: 0,
      getSecretValue: 0,
    });
    expect(sizes).toHaveLength(8);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(20);
    expect(sizes.filter((size) => size === 20)).toHaveLength(7);
    expect(entries.every((e) => e.rotatedAt.state === 'found')).toBe(true);
  });

  it('reports a secret whose value could not be read as unreadable, with the AWS error from Errors', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    const [gone] = await createMany(environment, 3, 10);
    const client = fleetClient();
    let deleted = 0;
    // The secret disappears between the listing and the read (a race AWS allows).
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchGetSecretValueCommand' && deleted === 0 && gone) {
          deleted++;
          await secretsManager().send(
            new DeleteSecretCommand({ SecretId: gone.arn, ForceDeleteWithoutRecovery: true }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'deleteBeforeRead' },
    );

    // Act
    const { entries } = await readFleet(client, defaultPolicySettings(environment));

    // Assess
    expect(deleted).toBe(1);
    const unreadable = entries.filter((e) => e.rotatedAt.state === 'unreadable');
    expect(unreadable.map((e) => e.secret.arn)).toEqual([gone?.arn]);
    expect(unreadable[0]?.rotatedAt).toMatchObject({
      state: 'unreadable',
      errorCode: 'ResourceNotFoundException',
    });
    expect(entries.filter((e) => e.rotatedAt.state === 'found')).toHaveLength(2);
  });

  it("looks up a pending rotation's version date, and only for secrets that have one", async () => {
    // Prepare
    const environment = uniqueEnvironment();
    const [stuck] = await createMany(environment, 2, 10);
    await secretsManager()
      .send(
        new RotateSecretCommand({
          SecretId: stuck?.arn,
          RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotateApiKey',
          RotationRules: { AutomaticallyAfterDays: 30 },
        }),
      )
      .catch((error: Error) => {
        if (error.name !== 'ResourceNotFoundException') throw error; // moto cannot invoke the function
      });

    // Act
    const { entries, calls } = await readFleet(fleetClient(), defaultPolicySettings(environment));

    // Assess
    expect(calls.listSecretVersionIds).toBe(1);
    const entry = entries.find((e) => e.secret.arn === stuck?.arn);
    const created = entry?.pendingCreated;
    expect(created?.state).toBe('found');
    if (created?.state === 'found') expect(Date.now() - created.date.getTime()).toBeLessThan(60_000);
  });

  it('retries throttled ListSecrets calls (adaptive retry) and completes the read', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    await createMany(environment, 3, 10);
    const throttle = throttlingTransport('ListSecrets', 2);

    // Act
    const { entries } = await readFleet(
      fleetClient({ requestHandler: throttle.handler }),
      defaultPolicySettings(environment),
    );

    // Assess
    expect(throttle.state.fired).toBe(2);
    expect(entries).toHaveLength(3);
  });

  it('fails the whole read with a FleetReadError when listing stays throttled', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    const throttle = throttlingTransport('ListSecrets', 100);
    const client = createFleetClient({
      maxAttempts: 2,
      config: { ...motoConfig(), requestHandler: throttle.handler },
    });

    // Act
    const read = readFleet(client, defaultPolicySettings(environment));

    // Assess
    await expect(read).rejects.toThrow(FleetReadError);
    await expect(read).rejects.toThrow(
      /could not list the secrets under env-[0-9a-f]+\/database\/, env-[0-9a-f]+\/api-keys\/: ThrottlingException: Rate exceeded/,
    );
    expect(throttle.state.fired).toBe(2);
  });

  it('marks a whole batch unreadable when BatchGetSecretValue stays throttled, never as lacking rotated_at', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    await createMany(environment, 3, 10);
    const throttle = throttlingTransport('BatchGetSecretValue', 100);
    const client = createFleetClient({
      maxAttempts: 2,
      config: { ...motoConfig(), requestHandler: throttle.handler },
    });

    // Act
    const { entries } = await readFleet(client, defaultPolicySettings(environment));

    // Assess
    expect(throttle.state.fired).toBe(2);
    expect(entries.map((e) => e.rotatedAt)).toEqual(
      Array(3).fill({ state: 'unreadable', errorCode: 'ThrottlingException', message: 'Rate exceeded' }),
    );
  });
});

describe('readRotatedAt', () => {
  it('refuses more than 20 secrets in one call, before calling', async () => {
    // Prepare
    const client = fleetClient();
    const sizes = recordBatchSizes(client);
    const secrets = Array.from({ length: 21 }, (_, i) => ({
      arn: `arn:aws:secretsmanager:us-east-1:1:secret:x${i}`,
      name: `x${i}`,
    }));

    // Act / Assess
    await expect(readRotatedAt(client, secrets)).rejects.toThrow(BatchTooLargeError);
    expect(sizes).toEqual([]);
  });

  it('keeps no part of the value, only rotated_at', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    const made = await createSeedSecret(secretsManager(), seedName(environment, 'clerk'), 'clerk', {
      rotatedDaysAgo: 3,
    });
    const listed = await secretsManager().send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [environment] }] }),
    );

    // Act
    const { evidence } = await readRotatedAt(fleetClient(), [
      { arn: made.arn, name: listed.SecretList?.[0]?.Name ?? '' },
    ]);

    // Assess
    expect(evidence.get(made.arn)).toMatchObject({ state: 'found' });
    const text = JSON.stringify([...evidence]);
    expect(made.secrets.some((value) => text.includes(value))).toBe(false);
  });

  it('reads AWSCURRENT again by its label when the batch answers with another version (moto after a rotation)', async () => {
    // Prepare
    const environment = uniqueEnvironment();
    const name = seedName(environment, 'resend');
    const made = await createSeedSecret(secretsManager(), name, 'resend', { rotatedDaysAgo: 200 });
    const next = '22222222-2222-4222-8222-222222222222';
    const fresh = new Date(Date.now() - 86_400_000);
    await secretsManager().send(
      new PutSecretValueCommand({
        SecretId: made.arn,
        ClientRequestToken: next,
        SecretString: JSON.stringify({ api_key: 're_new', rotated_at: fresh.toISOString() }),
        VersionStages: ['AWSPENDING'],
      }),
    );
    const current = Object.entries(await stagesOf(secretsManager(), made.arn)).find(([, s]) =>
      s.includes('AWSCURRENT'),
    )?.[0];
    await secretsManager().send(
      new UpdateSecretVersionStageCommand({
        SecretId: made.arn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: next,
        RemoveFromVersionId: current,
      }),
    );

    // Act
    const { evidence, rereads } = await readRotatedAt(fleetClient(), [{ arn: made.arn, name }]);

    // Assess
    expect(rereads).toBe(1);
    expect(evidence.get(made.arn)).toEqual({ state: 'found', date: fresh });
  });
});
