/**
 * The revoke input against Secrets Manager's documented DescribeSecret, which lists only
 * versions that carry a staging label (moto lists every version, so it cannot show this):
 * a version superseded twice has no label, yet its keys are still to be revoked.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ApiKeyProvider,
  ApiKeyStrategy,
  revokeSupersededVersion,
  SupersessionRecords,
  supersessionTag,
} from '../../shared/api-keys/index.js';
import { SecretStore } from '../../shared/rotation/index.js';
import * as z from '../../shared/zod.js';
import { RecordingLogger } from '../support/fakes.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/api-keys/fake-AbCdEf';
const CURRENT = '11111111-1111-4111-8111-111111111111';
const PREVIOUS = '22222222-2222-4222-8222-222222222222';
const UNLABELLED = '33333333-3333-4333-8333-333333333333';
const SUPERSEDED_AT = new Date('2026-11-30T12:00:00.250Z');
const GRACE_MS = 900_000;

const sm = mockClient(SecretsManagerClient);

/** A provider that records which key ids it was asked to revoke. */
function recordingProvider(revoked: string[]): ApiKeyProvider {
  return {
    name: 'fake',
    schema: z.looseObject({ api_key_id: z.string() }),
    issue: async () => ({}),
    test: async () => undefined,
    revoke: async ({ old, current }) => {
      if (old.api_key_id === current.api_key_id) return { revoked: [], manual: [] };
      revoked.push(String(old.api_key_id));
      return { revoked: [String(old.api_key_id)], manual: [] };
    },
  };
}

function setup(now: Date) {
  const client = new SecretsManagerClient({ region: 'us-east-1' });
  const store = new SecretStore(client);
  const revoked: string[] = [];
  const strategy = new ApiKeyStrategy({
    provider: recordingProvider(revoked),
    store,
    records: new SupersessionRecords(client),
    scheduler: { schedule: async () => undefined },
    gracePeriodMs: GRACE_MS,
    readSecret: async (secretId) => {
      throw new Error(`this test reads no other secret (${secretId})`);
    },
    now: () => now,
  });
  const revoke = (VersionId: string) =>
    revokeSupersededVersion(
      { store, strategyFor: () => strategy, logger: new RecordingLogger() },
      { action: 'revoke', SecretId: ARN, VersionId },
    );
  return { revoke, revoked };
}

beforeEach(() => {
  sm.reset();
  // As AWS answers: the unlabelled version is not listed; its record is a tag.
  sm.on(DescribeSecretCommand).resolves({
    ARN,
    Name: 'production/api-keys/fake',
    RotationEnabled: true,
    VersionIdsToStages: { [CURRENT]: ['AWSCURRENT'], [PREVIOUS]: ['AWSPREVIOUS'] },
    Tags: [supersessionTag({ versionId: UNLABELLED, at: SUPERSEDED_AT, by: PREVIOUS })],
  });
  for (const [versionId, keyId] of [
    [CURRENT, 'key-3'],
    [PREVIOUS, 'key-2'],
    [UNLABELLED, 'key-1'],
  ] as const) {
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: versionId }).resolves({
      ARN,
      VersionId: versionId,
      SecretString: JSON.stringify({ api_key_id: keyId }),
    });
  }
  sm.on(UntagResourceCommand).resolves({});
});

describe('revokeSupersededVersion on a version DescribeSecret does not list', () => {
  it('revokes its keys once its recorded grace period is over, and drops its record', async () => {
    // Prepare
    const { revoke, revoked } = setup(new Date(SUPERSEDED_AT.getTime() + GRACE_MS));

    // Act
    const result = await revoke(UNLABELLED);

    // Assess
    expect(result).toMatchObject({ versionId: UNLABELLED, revoked: ['key-1'] });
    expect(revoked).toEqual(['key-1']);
    expect(sm.commandCalls(UntagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      TagKeys: [`rotation-superseded:${UNLABELLED}`],
    });
  });

  it('refuses inside its grace period, revoking nothing', async () => {
    const { revoke, revoked } = setup(new Date(SUPERSEDED_AT.getTime() + GRACE_MS - 1));

    await expect(revoke(UNLABELLED)).rejects.toMatchObject({
      name: 'GracePeriodNotOverError',
      endsAt: new Date(SUPERSEDED_AT.getTime() + GRACE_MS),
    });
    expect(revoked).toEqual([]);
    expect(sm.commandCalls(UntagResourceCommand)).toHaveLength(0);
  });

  it('throws an UnknownVersionError for an id that is neither listed nor readable', async () => {
    const missing = '44444444-4444-4444-8444-444444444444';
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: missing }).rejects(
      new ResourceNotFoundException({ message: 'not found', $metadata: {} }),
    );
    const { revoke, revoked } = setup(new Date(SUPERSEDED_AT.getTime() + GRACE_MS));

    await expect(revoke(missing)).rejects.toMatchObject({ name: 'UnknownVersionError' });
    expect(revoked).toEqual([]);
  });
});
