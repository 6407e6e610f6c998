import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type CreateContext,
  type FinishContext,
  InvalidRotationEventError,
  MalformedSecretError,
  MissingVersionError,
  PendingNotVerifiedError,
  PendingTestFailedError,
  PendingValueInvalidError,
  parseRotationEvent,
  RotationEngine,
  type RotationEvent,
  RotationNotEnabledError,
  SecretStore,
  SecretStoreError,
  type SecretVersion,
  UnknownVersionError,
  VersionNotPendingError,
} from '../../shared/rotation/index.js';
import { FakeKeyStrategy, RecordingLogger } from '../support/fakes.js';
import { rejectionOf } from '../support/rejection.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/api-keys/fake-AbCdEf';
const NAME = 'production/api-keys/fake';
const CURRENT = '11111111-1111-4111-8111-111111111111';
const TOKEN = '22222222-2222-4222-8222-222222222222';
const OLD = '33333333-3333-4333-8333-333333333333';
const NOW = new Date('2026-11-25T12:00:00.123Z');

const sm = mockClient(SecretsManagerClient);

function describeAs(versions: Record<string, string[]>, rotationEnabled = true) {
  sm.on(DescribeSecretCommand).resolves({
    ARN,
    Name: NAME,
    RotationEnabled: rotationEnabled,
    VersionIdsToStages: versions,
  });
}

function storedValue(versionId: string, secretString: string) {
  sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: versionId }).resolves({
    ARN,
    VersionId: versionId,
    SecretString: secretString,
  });
}

function currentIs(versionId: string, secretString: string) {
  storedValue(versionId, secretString);
  sm.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSCURRENT' }).resolves({
    ARN,
    VersionId: versionId,
    SecretString: secretString,
  });
}

function noValue(versionId: string) {
  sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: versionId }).rejects(
    new ResourceNotFoundException({ message: 'no value', $metadata: {} }),
  );
}

function readFails(versionId: string) {
  sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: versionId }).rejects(
    Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
  );
}

function setup(strategy = new FakeKeyStrategy()) {
  const logger = new RecordingLogger();
  const engine = new RotationEngine({
    store: new SecretStore(new SecretsManagerClient({ region: 'us-east-1' })),
    strategy,
    logger,
    now: () => NOW,
  });
  return { engine, strategy, logger };
}

const event = (Step: RotationEvent['Step'], extra: Partial<RotationEvent> = {}): RotationEvent => ({
  SecretId: ARN,
  ClientRequestToken: TOKEN,
  Step,
  ...extra,
});

describe('parseRotationEvent', () => {
  it('accepts the event Secrets Manager sends', () => {
    expect(parseRotationEvent({ SecretId: NAME, ClientRequestToken: TOKEN, Step: 'setSecret' })).toEqual({
      SecretId: NAME,
      ClientRequestToken: TOKEN,
      Step: 'setSecret',
    });
  });

  it('throws an InvalidRotationEventError naming every missing field', () => {
    expect(() => parseRotationEvent({ Step: 'createSecret' })).toThrow(InvalidRotationEventError);
    expect(() => parseRotationEvent({ Step: 'createSecret' })).toThrow(
      /SecretId is required.*ClientRequestToken is required/,
    );
  });

  it('refuses an unknown step, naming the four it accepts', () => {
    expect(() =>
      parseRotationEvent({ SecretId: NAME, ClientRequestToken: TOKEN, Step: 'deleteSecret' }),
    ).toThrow(/Step must be one of createSecret, setSecret, testSecret, finishSecret/);
  });

  it('refuses an event that is not an object', () => {
    expect(() => parseRotationEvent('createSecret')).toThrow(InvalidRotationEventError);
    expect(() => parseRotationEvent(null)).toThrow(InvalidRotationEventError);
  });
});

describe('RotationEngine guard', () => {
  beforeEach(() => sm.reset());

  it('throws a RotationNotEnabledError and changes nothing when rotation is off', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] }, false);
    const { engine, strategy } = setup();
    await expect(engine.run(event('createSecret'))).rejects.toThrow(RotationNotEnabledError);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(strategy.calls).toEqual([]);
  });

  it('throws an UnknownVersionError when the token is not a version of the secret', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'] });
    const { engine } = setup();
    await expect(engine.run(event('setSecret'))).rejects.toThrow(UnknownVersionError);
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    "throws an UnknownVersionError for the token %s, which names one of Object's members",
    async (token) => {
      describeAs({ [CURRENT]: ['AWSCURRENT'] });
      const { engine } = setup();
      await expect(engine.run(event('setSecret', { ClientRequestToken: token }))).rejects.toThrow(
        UnknownVersionError,
      );
    },
  );

  it('throws a VersionNotPendingError when the token is neither AWSPENDING nor AWSCURRENT', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPREVIOUS'] });
    const { engine } = setup();
    await expect(engine.run(event('testSecret'))).rejects.toThrow(VersionNotPendingError);
  });

  it.each(['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const)(
    'does nothing in %s when the token is already AWSCURRENT',
    async (step) => {
      describeAs({ [TOKEN]: ['AWSCURRENT'], [CURRENT]: ['AWSPREVIOUS'] });
      const { engine, strategy } = setup();
      const result = await engine.run(event(step));
      expect(result).toEqual({ step, secretName: NAME, versionId: TOKEN, outcome: 'already-current' });
      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
      expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
      expect(strategy.calls).toEqual([]);
    },
  );

  it('tags every log line with the secret, the step and the token, and removes them afterwards', async () => {
    describeAs({ [TOKEN]: ['AWSCURRENT'] });
    const { engine, logger } = setup();
    await engine.run(event('testSecret'));
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const line of logger.lines) {
      expect(line.attributes[0]).toMatchObject({
        secretName: NAME,
        step: 'testSecret',
        clientRequestToken: TOKEN,
      });
    }
    expect(logger.keys).toEqual({});
  });
});

describe('RotationEngine createSecret', () => {
  beforeEach(() => sm.reset());

  it('stores the pending value under the token, carrying every field and stamping rotated_at', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    storedValue(
      CURRENT,
      JSON.stringify({ api_key: 'key-old', team: 'payments', rotated_at: '2024-01-01T00:00:00Z' }),
    );
    noValue(TOKEN);
    const { engine } = setup();

    const result = await engine.run(event('createSecret', { RotationToken: 'rotation-token' }));

    expect(result.outcome).toBe('done');
    const put = sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      SecretId: ARN,
      ClientRequestToken: TOKEN,
      VersionStages: ['AWSPENDING'],
      RotationToken: 'rotation-token',
    });
    expect(JSON.parse(put?.SecretString ?? '')).toEqual({
      api_key: 'key-new',
      team: 'payments',
      rotated_at: '2026-11-25T12:00:00Z',
    });
    for (const call of sm.commandCalls(GetSecretValueCommand)) {
      const { VersionId, VersionStage } = call.args[0].input;
      expect(VersionId ?? VersionStage).toBeDefined();
    }
  });

  it('keeps the pending value another attempt stored first and discards its own credential', async () => {
    // Prepare: moto overwrites a version on a repeated PutSecretValue; AWS answers ResourceExistsException.
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    currentIs(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: TOKEN })
      .rejectsOnce(new ResourceNotFoundException({ message: 'no value', $metadata: {} }))
      .resolves({ ARN, VersionId: TOKEN, SecretString: JSON.stringify({ api_key: 'key-winner' }) });
    sm.on(PutSecretValueCommand).rejects(
      new ResourceExistsException({ message: 'version exists', $metadata: {} }),
    );
    const { engine, logger, strategy } = setup();

    // Act
    const result = await engine.run(event('createSecret'));

    // Assess
    expect(result.outcome).toBe('already-done');
    expect(strategy.discarded).toEqual([
      { created: { api_key: 'key-new' }, stored: { api_key: 'key-winner' } },
    ]);
    expect(logger.lines.map((line) => line.message)).toContain(
      "another attempt stored the pending version first; discarding this attempt's credential",
    );
  });

  it("counts a write whose answer was lost as stored when the version holds this attempt's value", async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    currentIs(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    const stored = JSON.stringify({ api_key: 'key-new', rotated_at: '2026-11-25T12:00:00Z' });
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: TOKEN })
      .rejectsOnce(new ResourceNotFoundException({ message: 'no value', $metadata: {} }))
      .resolves({ ARN, VersionId: TOKEN, SecretString: stored });
    sm.on(PutSecretValueCommand).rejects(
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
    );
    const { engine, strategy } = setup();

    expect((await engine.run(event('createSecret'))).outcome).toBe('done');
    expect(strategy.discarded).toEqual([]);
  });

  it("throws the write's error and discards nothing when the version is still empty afterwards", async () => {
    // The write may still land: deleting the new credential now could leave a stored key that no longer exists.
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    currentIs(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    noValue(TOKEN);
    sm.on(PutSecretValueCommand).rejects(
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
    );
    const { engine, strategy } = setup();

    const error = await engine.run(event('createSecret')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretStoreError);
    expect((error as Error).message).toMatch(/TimeoutError/);
    expect(strategy.discarded).toEqual([]);
  });

  it("discards its credential when a failed write is followed by another attempt's value", async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    currentIs(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: TOKEN })
      .rejectsOnce(new ResourceNotFoundException({ message: 'no value', $metadata: {} }))
      .resolves({ ARN, VersionId: TOKEN, SecretString: JSON.stringify({ api_key: 'key-winner' }) });
    sm.on(PutSecretValueCommand).rejects(
      Object.assign(new Error('throttled'), { name: 'ThrottlingException' }),
    );
    const { engine, strategy } = setup();

    expect((await engine.run(event('createSecret'))).outcome).toBe('already-done');
    expect(strategy.discarded).toHaveLength(1);
  });

  it('does nothing when the pending version already holds a value', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    currentIs(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    storedValue(TOKEN, JSON.stringify({ api_key: 'key-new' }));
    const { engine, strategy } = setup();
    expect((await engine.run(event('createSecret'))).outcome).toBe('already-done');
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(strategy.calls).toEqual([]);
  });

  it('throws a MalformedSecretError without quoting the value when AWSCURRENT is not JSON', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    currentIs(CURRENT, 'hunter2-not-json');
    noValue(TOKEN);
    const { engine } = setup();
    const error = await engine.run(event('createSecret')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(String((error as Error).message)).toMatch(/AWSCURRENT.*is not valid JSON/);
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('hunter2');
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('names the missing field when AWSCURRENT lacks one', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    currentIs(CURRENT, JSON.stringify({ other: 'secret-value-x' }));
    noValue(TOKEN);
    const { engine } = setup();
    const error = (await engine.run(event('createSecret')).catch((e: unknown) => e)) as MalformedSecretError;
    expect(error.fields).toEqual(['api_key']);
    expect(error.message).toContain('api_key: is required');
    expect(error.message).not.toContain('secret-value-x');
  });

  it('throws a MissingVersionError when the secret has no AWSCURRENT version', async () => {
    describeAs({ [TOKEN]: ['AWSPENDING'] });
    noValue(TOKEN);
    const { engine } = setup();
    await expect(engine.run(event('createSecret'))).rejects.toThrow(MissingVersionError);
  });
});

describe('RotationEngine setSecret and testSecret', () => {
  beforeEach(() => sm.reset());

  it('throws a MissingVersionError when createSecret has not stored the pending value', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    storedValue(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    noValue(TOKEN);
    const { engine, strategy } = setup();
    await expect(engine.run(event('setSecret'))).rejects.toThrow(/createSecret has not run/);
    expect(strategy.calls).toEqual([]);
  });

  it('hands the strategy the parsed versions and reads each version once across steps', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    storedValue(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    storedValue(TOKEN, JSON.stringify({ api_key: 'key-new' }));
    const { engine, strategy } = setup();
    await engine.run(event('setSecret'));
    await engine.run(event('testSecret'));
    expect(strategy.calls).toEqual(['setPending', 'testPending']);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});

describe('RotationEngine finishSecret', () => {
  beforeEach(() => sm.reset());

  it('tests the pending credential, moves AWSCURRENT to the token, runs the after-finish work, then removes AWSPENDING', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'], [OLD]: ['AWSPREVIOUS'] });
    storedValue(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    storedValue(TOKEN, JSON.stringify({ api_key: 'key-new' }));
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    const { engine, strategy } = setup();

    expect((await engine.run(event('finishSecret'))).outcome).toBe('done');

    const updates = sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input);
    expect(updates).toEqual([
      { SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: CURRENT },
      { SecretId: ARN, VersionStage: 'AWSPENDING', RemoveFromVersionId: TOKEN },
    ]);
    expect(strategy.calls).toEqual(['testPending', 'afterFinish']);
  });

  it('throws a PendingNotVerifiedError, moving nothing, when the pending credential fails its test', async () => {
    // Prepare
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    storedValue(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    storedValue(TOKEN, JSON.stringify({ api_key: 'key-new' }));
    const strategy = new FakeKeyStrategy();
    strategy.testPending = async () => {
      strategy.calls.push('testPending');
      throw new PendingTestFailedError('the pending key is refused');
    };
    const { engine } = setup(strategy);

    // Act
    const error = await rejectionOf(engine.run(event('finishSecret')));

    // Assess
    expect(error).toBeInstanceOf(PendingNotVerifiedError);
    expect(error.message).toContain('PendingTestFailedError: the pending key is refused');
    expect(error.message).toContain('AWSCURRENT is unchanged');
    expect(error.cause).toBeInstanceOf(PendingTestFailedError);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(strategy.calls).toEqual(['testPending']);
  });

  it('resumes an interrupted finish: the token is AWSCURRENT but still AWSPENDING', async () => {
    describeAs({ [TOKEN]: ['AWSCURRENT', 'AWSPENDING'], [CURRENT]: ['AWSPREVIOUS'] });
    storedValue(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    storedValue(TOKEN, JSON.stringify({ api_key: 'key-new' }));
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    const { engine, strategy } = setup();

    expect((await engine.run(event('finishSecret'))).outcome).toBe('done');

    expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: ARN, VersionStage: 'AWSPENDING', RemoveFromVersionId: TOKEN },
    ]);
    expect(strategy.calls).toEqual(['afterFinish']);
  });
});

describe('RotationEngine finishSecret refuses to promote a version without a valid value', () => {
  beforeEach(() => sm.reset());

  it("throws a PendingValueInvalidError and moves nothing when the token's version is RotateSecret's empty placeholder", async () => {
    // Prepare
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    storedValue(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    noValue(TOKEN);
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    const { engine, strategy } = setup();

    // Act
    const error = await engine.run(event('finishSecret')).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(PendingValueInvalidError);
    expect((error as Error).message).toBe(
      `finishSecret refuses to make version ${TOKEN} AWSCURRENT: version ${TOKEN} of secret ${NAME} holds no value. ` +
        'AWSCURRENT is unchanged. It is the empty placeholder RotateSecret stages: createSecret has not run for this token, ' +
        'so no step has changed the credential. Run createSecret, setSecret and testSecret with this token first, then ' +
        'finishSecret; or abandon this rotation by removing the label (aws secretsmanager update-secret-version-stage ' +
        `--secret-id ${NAME} --version-stage AWSPENDING --remove-from-version-id ${TOKEN})`,
    );
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toEqual([]);
    expect(strategy.calls).toEqual([]);
  });

  it('throws a PendingValueInvalidError naming the bad field, never its value, when the pending value does not parse', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    storedValue(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    storedValue(TOKEN, JSON.stringify({ api_key: '', note: 'hand-written-value' }));
    const { engine, strategy } = setup();

    const error = await engine.run(event('finishSecret')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PendingValueInvalidError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^finishSecret refuses to make version ${TOKEN} AWSCURRENT: version ${TOKEN} \\(AWSPENDING\\) of secret ${NAME} is not a valid fake-key secret: api_key: .*AWSCURRENT is unchanged\\. No step applies a value that does not parse.*--remove-from-version-id ${TOKEN}\\).*aws secretsmanager rotate-secret --secret-id ${NAME}\\)$`,
      ),
    );
    expect((error as Error).message).not.toContain('hand-written-value');
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toEqual([]);
    expect(strategy.calls).toEqual([]);
  });

  it('fails, and moves nothing, when the version it would replace cannot be read', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    readFails(CURRENT);
    storedValue(TOKEN, JSON.stringify({ api_key: 'key-new' }));
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    const { engine, strategy } = setup();

    const error = await engine.run(event('finishSecret')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SecretStoreError);
    expect((error as Error).message).toMatch(
      new RegExp(`could not read version ${CURRENT}.*ThrottlingException`),
    );
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toEqual([]);
    expect(strategy.calls).toEqual([]);
  });

  it('hands afterFinish the version it replaced, read before AWSCURRENT moved', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    storedValue(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    storedValue(TOKEN, JSON.stringify({ api_key: 'key-new' }));
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    const finished: { current?: string; previous?: string }[] = [];
    class RecordingFinish extends FakeKeyStrategy {
      override async afterFinish(context?: FinishContext<{ api_key: string }>) {
        finished.push({ current: context?.current.versionId, previous: context?.previous?.versionId });
      }
    }
    const { engine } = setup(new RecordingFinish());

    await engine.run(event('finishSecret'));

    expect(finished).toEqual([{ current: TOKEN, previous: CURRENT }]);
  });

  it('fails an interrupted finish, keeping AWSPENDING for the retry, when AWSPREVIOUS cannot be read', async () => {
    describeAs({ [TOKEN]: ['AWSCURRENT', 'AWSPENDING'], [CURRENT]: ['AWSPREVIOUS'] });
    readFails(CURRENT);
    storedValue(TOKEN, JSON.stringify({ api_key: 'key-new' }));
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    const { engine, strategy } = setup();

    await expect(engine.run(event('finishSecret'))).rejects.toBeInstanceOf(SecretStoreError);

    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toEqual([]);
    expect(strategy.calls).toEqual([]);
  });

  it('stops an interrupted finish whose AWSCURRENT holds no value and says how to put AWSCURRENT back', async () => {
    describeAs({ [TOKEN]: ['AWSCURRENT', 'AWSPENDING'], [CURRENT]: ['AWSPREVIOUS'] });
    storedValue(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    noValue(TOKEN);
    const { engine, strategy } = setup();

    const error = await engine.run(event('finishSecret')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PendingValueInvalidError);
    expect((error as Error).message).toBe(
      `version ${TOKEN} of secret ${NAME} holds no value, yet it is AWSCURRENT: applications reading the secret fail. ` +
        'finishSecret stops here; put AWSCURRENT back on the version it replaced: aws secretsmanager ' +
        `update-secret-version-stage --secret-id ${NAME} --version-stage AWSCURRENT --move-to-version-id ${CURRENT} ` +
        `--remove-from-version-id ${TOKEN}`,
    );
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toEqual([]);
    expect(strategy.calls).toEqual([]);
  });
});

describe('RotationEngine readStage', () => {
  beforeEach(() => sm.reset());

  /** A strategy whose createPending reads AWSPREVIOUS through readStage and records the answer. */
  function readingStrategy() {
    const seen: (SecretVersion<{ api_key: string }> | undefined)[] = [];
    class ReadingStrategy extends FakeKeyStrategy {
      override async createPending(context?: CreateContext<{ api_key: string }>) {
        seen.push(await context?.readStage('AWSPREVIOUS'));
        return { api_key: 'key-new' };
      }
    }
    return { strategy: new ReadingStrategy(), seen };
  }

  function previousIs(setupPrevious: () => void) {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'], [OLD]: ['AWSPREVIOUS'] });
    currentIs(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    noValue(TOKEN);
    setupPrevious();
    sm.on(PutSecretValueCommand).resolves({});
  }

  it('answers undefined when no version carries the label', async () => {
    describeAs({ [CURRENT]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    currentIs(CURRENT, JSON.stringify({ api_key: 'key-old' }));
    noValue(TOKEN);
    sm.on(PutSecretValueCommand).resolves({});
    const { strategy, seen } = readingStrategy();

    await setup(strategy).engine.run(event('createSecret'));

    expect(seen).toEqual([undefined]);
  });

  it('throws, and the step stores nothing, when the labelled version cannot be read', async () => {
    previousIs(() => readFails(OLD));
    const { strategy, seen } = readingStrategy();

    await expect(setup(strategy).engine.run(event('createSecret'))).rejects.toBeInstanceOf(SecretStoreError);

    expect(seen).toEqual([]);
    expect(sm.commandCalls(PutSecretValueCommand)).toEqual([]);
  });

  it('throws a MissingVersionError when the labelled version holds no value', async () => {
    previousIs(() => noValue(OLD));
    const { strategy } = readingStrategy();

    await expect(setup(strategy).engine.run(event('createSecret'))).rejects.toThrow(
      new MissingVersionError(`version ${OLD} (AWSPREVIOUS) of secret ${NAME} holds no value`),
    );
    expect(sm.commandCalls(PutSecretValueCommand)).toEqual([]);
  });

  it('throws a MalformedSecretError when the labelled version does not parse', async () => {
    previousIs(() => storedValue(OLD, '{"api_key":'));
    const { strategy } = readingStrategy();

    await expect(setup(strategy).engine.run(event('createSecret'))).rejects.toBeInstanceOf(
      MalformedSecretError,
    );
    expect(sm.commandCalls(PutSecretValueCommand)).toEqual([]);
  });
});

describe('SecretStore', () => {
  beforeEach(() => sm.reset());

  it('wraps a Secrets Manager failure in a SecretStoreError naming the operation', async () => {
    sm.on(DescribeSecretCommand).rejects(
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' }),
    );
    const store = new SecretStore(new SecretsManagerClient({ region: 'us-east-1' }));
    await expect(store.describe(NAME)).rejects.toThrow(
      /could not describe secret production\/api-keys\/fake: ThrottlingException: Rate exceeded$/,
    );
  });

  it('reads a version again when its cache is off', async () => {
    storedValue(CURRENT, '{}');
    const store = new SecretStore(new SecretsManagerClient({ region: 'us-east-1' }), { cacheSize: 0 });
    await store.getVersion(ARN, CURRENT);
    await store.getVersion(ARN, CURRENT);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
