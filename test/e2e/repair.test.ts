import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import {
  InProcessRotationInvoker,
  RepairAction,
  RepairStatus,
  repairStuckRotation,
} from '../../shared/repair/index.js';
import { SecretStore, type StepName } from '../../shared/rotation/index.js';
import {
  canLogin,
  captureOutput,
  createRole,
  createRotatingSecret,
  findLeaks,
  hostilePassword,
  injectFault,
  runSteps,
  secretsManager,
  seedDatabaseSecret,
  stack,
  stagesOf,
  startRotation,
  uniqueName,
  valueAt,
} from '../support/bed.js';

/**
 * Stuck-rotation repair end to end on moto and PostgreSQL, the steps run by the real
 * rotateDatabase handler in process. moto dates every version "now", so the age rule is
 * exercised with an injected clock.
 */

const sm = secretsManager();
const TWO_HOURS_LATER = () => new Date(Date.now() + 2 * 3_600_000);
let output: ReturnType<typeof captureOutput>;
let seen: string[];

const rotateDatabase = () =>
  buildRotateDatabaseHandler({
    config: loadDatabaseRotationConfig({}),
    secretsManager: sm,
    logger: new Logger({ serviceName: 'repair-e2e' }),
  });

/** The real handler behind the invoker, recording every step it is asked to run. */
function invoker() {
  const handler = rotateDatabase();
  const ran: StepName[] = [];
  return {
    ran,
    invoker: new InProcessRotationInvoker(() => async (event) => {
      ran.push(event.Step);
      return handler(event, {
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotateDatabase',
      } as never);
    }),
  };
}

function repair(options: { client?: typeof sm; now?: () => Date; minAgeMs?: number; dryRun?: boolean } = {}) {
  const client = options.client ?? sm;
  const steps = invoker();
  return {
    steps,
    run: (arn: string) =>
      repairStuckRotation(
        {
          secretsManager: client,
          store: new SecretStore(client, { cacheSize: 0 }),
          invoker: steps.invoker,
          logger: new Logger({ serviceName: 'repair-e2e' }),
          now: options.now ?? TWO_HOURS_LATER,
        },
        arn,
        {
          ...(options.minAgeMs !== undefined ? { minAgeMs: options.minAgeMs } : {}),
          dryRun: options.dryRun ?? false,
        },
      ),
  };
}

async function databaseSecret() {
  const username = uniqueName('repair_user');
  const password = hostilePassword();
  seen.push(password);
  await createRole(username, password);
  const { arn, token } = await createRotatingSecret(
    sm,
    uniqueName('production/database/primary'),
    seedDatabaseSecret({ username, password }),
  );
  return { username, password, arn, token };
}

async function superuserQuery(sql: string, values: unknown[]): Promise<void> {
  const { host, port, superuser, superuserPassword } = stack().postgres;
  const client = new pg.Client({
    host,
    port,
    user: superuser,
    password: superuserPassword,
    database: 'postgres',
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ sql: string }>(sql, values);
    if (rows[0]?.sql) await client.query(rows[0].sql);
  } finally {
    await client.end();
  }
}

beforeEach(() => {
  seen = [];
  output = captureOutput();
});

afterEach(() => {
  output.stop();
  expect(findLeaks(output.text(), seen), 'secret values in captured output').toEqual([]);
});

describe('repairStuckRotation', () => {
  it('unlabels the empty placeholder RotateSecret left, after which a rotation starts and completes', async () => {
    // Prepare: RotateSecret staged an empty AWSPENDING; createSecret never ran.
    const { username, arn, token } = await databaseSecret();
    const before = await stagesOf(sm, arn);
    const { run, steps } = repair();

    // Act
    const result = await run(arn);

    // Assess
    expect(result).toMatchObject({
      status: RepairStatus.REPAIRED,
      action: RepairAction.UNLABEL_PLACEHOLDER,
      versionId: token,
      reason: expect.stringContaining('holds no value'),
    });
    expect(steps.ran).toEqual([]);
    const after = await stagesOf(sm, arn);
    expect(Object.entries(after).filter(([, s]) => s.includes('AWSPENDING'))).toEqual([]);
    expect(Object.entries(after).find(([, s]) => s.includes('AWSCURRENT'))).toEqual(
      Object.entries(before).find(([, s]) => s.includes('AWSCURRENT')),
    );
    const next = await startRotation(sm, arn);
    await runSteps(rotateDatabase(), arn, next);
    const current = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(current?.password ?? '');
    expect(await canLogin(username, current?.password ?? '')).toBe(true);
  });

  it('is idempotent: a second run finds nothing to repair', async () => {
    const { arn } = await databaseSecret();
    await repair().run(arn);

    const second = await repair().run(arn);

    expect(second).toMatchObject({ status: RepairStatus.NOT_NEEDED, action: RepairAction.NONE });
  });

  it('finishes a rotation whose setSecret already changed the password, so the pending password becomes current', async () => {
    const { username, password, arn, token } = await databaseSecret();
    await runSteps(rotateDatabase(), arn, token, ['createSecret', 'setSecret']);
    const pending = await valueAt(sm, arn, 'AWSPENDING');
    seen.push(pending?.password ?? '');
    expect(await canLogin(username, password)).toBe(false);
    const { run, steps } = repair();

    const result = await run(arn);

    expect(result).toMatchObject({ status: RepairStatus.REPAIRED, action: RepairAction.FINISH_ROTATION });
    expect(steps.ran).toEqual(['setSecret', 'testSecret', 'finishSecret']);
    expect(result.stepReports.map((report) => report.outcome)).toEqual(['already-done', 'done', 'done']);
    expect((await stagesOf(sm, arn))[token]).toEqual(['AWSCURRENT']);
    expect(await canLogin(username, pending?.password ?? '')).toBe(true);
    expect(JSON.stringify(result)).not.toContain(pending?.password);
  });

  it('leaves a stuck rotation younger than the minimum age alone', async () => {
    const { arn, token } = await databaseSecret();
    const before = await stagesOf(sm, arn);

    const result = await repair({ now: () => new Date() }).run(arn);

    expect(result).toMatchObject({
      status: RepairStatus.DEFERRED,
      action: RepairAction.WAIT,
      versionId: token,
    });
    expect(result.reason).toMatch(/younger than the 60 min/);
    expect(await stagesOf(sm, arn)).toEqual(before);
  });

  it('reports what it would do on a dry run and changes nothing', async () => {
    const { arn } = await databaseSecret();
    const before = await stagesOf(sm, arn);
    const { run, steps } = repair({ dryRun: true });

    const result = await run(arn);

    expect(result).toMatchObject({ status: RepairStatus.PLANNED, action: RepairAction.UNLABEL_PLACEHOLDER });
    expect(steps.ran).toEqual([]);
    expect(await stagesOf(sm, arn)).toEqual(before);
  });

  it('stops, saying which step refused and why, when the pending value does not parse; nothing is discarded', async () => {
    const { arn, token } = await databaseSecret();
    await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        ClientRequestToken: token,
        SecretString: '{"host": ',
        VersionStages: ['AWSPENDING'],
      }),
    );
    const before = await stagesOf(sm, arn);

    const result = await repair().run(arn);

    expect(result).toMatchObject({
      status: RepairStatus.FAILED,
      action: RepairAction.FINISH_ROTATION,
      failure: {
        step: 'setSecret',
        errorType: 'MalformedSecretError',
        message: expect.stringContaining('is not valid JSON'),
      },
    });
    expect(result.reason).toContain('setSecret refused: MalformedSecretError');
    expect(await stagesOf(sm, arn)).toEqual(before);
  });

  it('stops when the database refuses every stored password, and keeps the pending version', async () => {
    const { username, arn, token } = await databaseSecret();
    await runSteps(rotateDatabase(), arn, token, ['createSecret']);
    const outOfBand = hostilePassword();
    seen.push(outOfBand, (await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '');
    await superuserQuery("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text) AS sql", [
      username,
      outOfBand,
    ]);

    const result = await repair().run(arn);

    expect(result.failure).toMatchObject({ step: 'setSecret', errorType: 'NoWorkingCredentialError' });
    expect((await stagesOf(sm, arn))[token]).toEqual(['AWSPENDING']);
  });

  it('completes an interrupted finishSecret (AWSCURRENT moved, AWSPENDING left behind)', async () => {
    const { username, arn, token } = await databaseSecret();
    await runSteps(rotateDatabase(), arn, token, ['createSecret', 'setSecret', 'testSecret']);
    const currentId = Object.entries(await stagesOf(sm, arn)).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: arn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        RemoveFromVersionId: currentId,
      }),
    );
    const { run, steps } = repair();

    const result = await run(arn);

    expect(result).toMatchObject({ status: RepairStatus.REPAIRED, action: RepairAction.COMPLETE_FINISH });
    expect(steps.ran).toEqual(['finishSecret']);
    expect((await stagesOf(sm, arn))[token]).toEqual(['AWSCURRENT']);
    const current = await valueAt(sm, arn, 'AWSCURRENT');
    seen.push(current?.password ?? '');
    expect(await canLogin(username, current?.password ?? '')).toBe(true);
  });

  it('puts the label back and finishes when createSecret stores a value while the placeholder is being unlabelled', async () => {
    // Prepare: between the repair's read (empty) and its removal of the label, a createSecret
    // that passed its guard earlier stores its value, as a still-running attempt would. (moto
    // refuses a PutSecretValue to a version without labels, so the write lands just before the
    // removal; from the repair's side the race is the same: a value appears after its read.)
    const { username, arn, token } = await databaseSecret();
    const late = `late-${randomBytes(16).toString('hex')}`;
    seen.push(late);
    const current = (await valueAt(sm, arn, 'AWSCURRENT')) ?? {};
    const client = secretsManager();
    let fired = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { RemoveFromVersionId?: string; VersionStage?: string };
        if (
          context.commandName === 'UpdateSecretVersionStageCommand' &&
          input.RemoveFromVersionId === token &&
          fired++ === 0
        ) {
          await sm.send(
            new PutSecretValueCommand({
              SecretId: arn,
              ClientRequestToken: token,
              SecretString: JSON.stringify({ ...current, password: late, connection_string: undefined }),
              VersionStages: ['AWSPENDING'],
            }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'lateCreateSecret' },
    );
    const { run, steps } = repair({ client });

    const result = await run(arn);

    expect(fired).toBe(1);
    expect(result).toMatchObject({ status: RepairStatus.REPAIRED, action: RepairAction.FINISH_ROTATION });
    expect(result.reason).toContain('the label was put back and the rotation finished');
    expect(steps.ran).toEqual(['setSecret', 'testSecret', 'finishSecret']);
    expect((await stagesOf(sm, arn))[token]).toEqual(['AWSCURRENT']);
    expect(await canLogin(username, late)).toBe(true);
  });

  it('fails closed when the pending version cannot be read, changing nothing', async () => {
    const { arn } = await databaseSecret();
    const before = await stagesOf(sm, arn);
    const client = injectFault(secretsManager(), 'GetSecretValueCommand', 'before');

    await expect(repair({ client }).run(arn)).rejects.toThrow(/injected: GetSecretValueCommand failed/);

    expect(await stagesOf(sm, arn)).toEqual(before);
  });
});
