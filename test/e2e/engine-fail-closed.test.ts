/**
 * The engine on the moto server never decides as if a version were absent because its read
 * failed: finishSecret and readStage fail the step instead, change nothing, and a retry
 * completes. The strategy is the test fake (it has after-finish work, as API keys do).
 */
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import {
  type CreateContext,
  type FinishContext,
  RotationEngine,
  SecretStore,
  SecretStoreError,
} from '../../shared/rotation/index.js';
import {
  createRotatingSecret,
  injectFault,
  secretsManager,
  stagesOf,
  startRotation,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import { FakeKeyStrategy, RecordingLogger } from '../support/fakes.js';

type Key = { api_key: string };

/** Records what afterFinish was handed, and what createPending read as AWSPREVIOUS. */
class WatchingStrategy extends FakeKeyStrategy {
  readonly finished: { current: string; previous: string | undefined }[] = [];
  readonly previousSeen: (string | undefined)[] = [];
  override async createPending(context?: CreateContext<Key>) {
    this.previousSeen.push((await context?.readStage('AWSPREVIOUS'))?.versionId);
    return super.createPending();
  }
  override async afterFinish(context?: FinishContext<Key>) {
    await super.afterFinish();
    if (context)
      this.finished.push({ current: context.current.versionId, previous: context.previous?.versionId });
  }
}

function engineOn(client = secretsManager(), strategy = new WatchingStrategy()) {
  const engine = new RotationEngine<Key>({
    store: new SecretStore(client),
    strategy,
    logger: new RecordingLogger(),
  });
  return { engine, strategy };
}

/** A secret with an AWSPREVIOUS version and a rotation started; the ids of its versions. */
async function secretWithPrevious() {
  const sm = secretsManager();
  const { arn } = await createRotatingSecret(
    sm,
    uniqueName('production/api-keys/fake'),
    { api_key: 'key-1' },
    {
      rotate: false,
    },
  );
  const previousId = await versionWith(arn, 'AWSCURRENT');
  await sm.send(
    new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify({ api_key: 'key-2' }) }),
  );
  const currentId = await versionWith(arn, 'AWSCURRENT');
  const token = await startRotation(sm, arn);
  return { arn, token, previousId, currentId };
}

async function versionWith(arn: string, stage: string): Promise<string> {
  return Object.entries(await stagesOf(secretsManager(), arn)).find(([, s]) => s.includes(stage))?.[0] ?? '';
}

const step = (arn: string, token: string, Step: 'createSecret' | 'finishSecret') => ({
  SecretId: arn,
  ClientRequestToken: token,
  Step,
});

describe('RotationEngine on moto fails closed when a version it depends on cannot be read', () => {
  it('fails finishSecret before moving AWSCURRENT when the version it replaces cannot be read; a retry completes', async () => {
    // Prepare
    const { arn, token, currentId } = await secretWithPrevious();
    await engineOn().engine.run(step(arn, token, 'createSecret'));
    const stagesBefore = await stagesOf(secretsManager(), arn);
    const unreadable = injectFault(secretsManager(), 'GetSecretValueCommand', 'before', 1, (input) => {
      return input.VersionId === currentId;
    });
    const { engine, strategy } = engineOn(unreadable);

    // Act
    const error = await engine.run(step(arn, token, 'finishSecret')).catch((e: unknown) => e);

    // Assess: the read failed the step; nothing moved and no after-finish work ran.
    expect(unreadable.faultsFired).toBe(1);
    expect(error).toBeInstanceOf(SecretStoreError);
    expect(await stagesOf(secretsManager(), arn)).toEqual(stagesBefore);
    expect((await valueAt(secretsManager(), arn, 'AWSCURRENT'))?.api_key).toBe('key-2');
    expect(strategy.calls).toEqual([]);

    // Secrets Manager's retry finishes, and the after-finish work gets the replaced version.
    const retry = engineOn();
    await retry.engine.run(step(arn, token, 'finishSecret'));
    expect(retry.strategy.finished).toEqual([{ current: token, previous: currentId }]);
    expect((await stagesOf(secretsManager(), arn))[token]).toEqual(['AWSCURRENT']);
  });

  it('fails createSecret, storing nothing, when readStage cannot read AWSPREVIOUS; a retry reads it', async () => {
    const { arn, token, previousId } = await secretWithPrevious();
    const unreadable = injectFault(secretsManager(), 'GetSecretValueCommand', 'before', 1, (input) => {
      return input.VersionId === previousId;
    });
    const { engine, strategy } = engineOn(unreadable);

    const error = await engine.run(step(arn, token, 'createSecret')).catch((e: unknown) => e);

    expect(unreadable.faultsFired).toBe(1);
    expect(error).toBeInstanceOf(SecretStoreError);
    expect(strategy.previousSeen).toEqual([]);
    expect(await valueAt(secretsManager(), arn, 'AWSPENDING')).toBeUndefined();

    const retry = engineOn();
    await retry.engine.run(step(arn, token, 'createSecret'));
    expect(retry.strategy.previousSeen).toEqual([previousId]);
  });
});
