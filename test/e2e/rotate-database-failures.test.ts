import { Logger } from '@aws-lambda-powertools/logger';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import type { StepName } from '../../shared/rotation/index.js';
import {
  canLogin,
  captureOutput,
  createRole,
  createRotatingSecret,
  findLeaks,
  hostilePassword,
  injectFault,
  runSteps,
  STEPS,
  secretsManager,
  seedDatabaseSecret,
  stack,
  stagesOf,
  startRotation,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import {
  type DatabaseFault,
  databaseDown,
  secretsManagerFault,
  statementFault,
} from '../support/database-faults.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * A failure is injected after each step and in the middle of each step; at that point the
 * stored AWSCURRENT or AWSPENDING password must log in (AWSCURRENT's until setSecret has
 * changed the password), and a retry of the rotation with the same token must complete,
 * after which AWSCURRENT's password logs in. Each attempt runs on a fresh handler, as on a
 * new Lambda container.
 */

const sm = secretsManager();
const config = loadDatabaseRotationConfig({ DB_CONNECT_TIMEOUT_MS: '2000' });
let proxy: TcpProxy;
let output: ReturnType<typeof captureOutput>;
let seen: string[];

beforeAll(async () => {
  proxy = await startTcpProxy({ host: stack().postgres.host, port: stack().postgres.port });
});
afterAll(async () => proxy.close());
beforeEach(() => {
  seen = [];
  proxy.setAvailable(true);
  output = captureOutput();
});
afterEach(() => {
  output.stop();
  proxy.setAvailable(true);
  expect(findLeaks(output.text(), seen), 'secret values in captured output').toEqual([]);
});

function handler(fault: Partial<DatabaseFault> = {}) {
  return buildRotateDatabaseHandler({
    config,
    secretsManager: fault.secretsManager ?? sm,
    logger: new Logger({ serviceName: 'rotation-failures', logLevel: 'DEBUG' }),
    ...(fault.connector ? { connector: fault.connector } : {}),
  });
}

interface Case {
  name: string;
  /** Steps that complete before the failing one. */
  before: StepName[];
  /** The step that fails, and how; absent for a crash between steps. */
  failing?: { step: StepName; fault: () => DatabaseFault; completes?: boolean };
  /** The stored password that logs in at the failure point. */
  works: 'AWSCURRENT' | 'AWSPENDING';
}

const cases: Case[] = [
  { name: 'a crash after createSecret', before: ['createSecret'], works: 'AWSCURRENT' },
  { name: 'a crash after setSecret', before: ['createSecret', 'setSecret'], works: 'AWSPENDING' },
  {
    name: 'a crash after testSecret',
    before: ['createSecret', 'setSecret', 'testSecret'],
    works: 'AWSPENDING',
  },
  {
    name: 'createSecret: GetRandomPassword fails',
    before: [],
    failing: {
      step: 'createSecret',
      fault: () => secretsManagerFault('GetRandomPasswordCommand', 'before'),
    },
    works: 'AWSCURRENT',
  },
  {
    name: 'createSecret: PutSecretValue stored the value but its response was lost',
    before: [],
    failing: {
      step: 'createSecret',
      fault: () => secretsManagerFault('PutSecretValueCommand', 'after'),
      // The step reads the version back, finds its own value and counts it as stored.
      completes: true,
    },
    works: 'AWSCURRENT',
  },
  {
    name: 'setSecret: Secrets Manager fails to read a version',
    before: ['createSecret'],
    failing: {
      step: 'setSecret',
      fault: () => secretsManagerFault('GetSecretValueCommand', 'before'),
    },
    works: 'AWSCURRENT',
  },
  {
    name: 'setSecret: the database is unreachable',
    before: ['createSecret'],
    failing: { step: 'setSecret', fault: () => databaseDown(proxy) },
    works: 'AWSCURRENT',
  },
  {
    name: 'setSecret: ALTER ROLE applied but the connection dropped before its reply',
    before: ['createSecret'],
    failing: {
      step: 'setSecret',
      // ALTER ROLE reaches the database, but its reply is lost.
      fault: () => statementFault(config.database, /^ALTER ROLE/, 'after'),
    },
    works: 'AWSPENDING',
  },
  {
    name: 'testSecret: the database is unreachable',
    before: ['createSecret', 'setSecret'],
    failing: { step: 'testSecret', fault: () => databaseDown(proxy) },
    works: 'AWSPENDING',
  },
  {
    name: 'finishSecret: moving AWSCURRENT fails',
    before: ['createSecret', 'setSecret', 'testSecret'],
    failing: {
      step: 'finishSecret',
      fault: () => secretsManagerFault('UpdateSecretVersionStageCommand', 'before'),
    },
    works: 'AWSPENDING',
  },
  {
    name: 'finishSecret: AWSCURRENT moved but the response was lost',
    before: ['createSecret', 'setSecret', 'testSecret'],
    failing: {
      step: 'finishSecret',
      fault: () => secretsManagerFault('UpdateSecretVersionStageCommand', 'after'),
    },
    works: 'AWSCURRENT',
  },
  {
    name: 'finishSecret: removing AWSPENDING fails',
    before: ['createSecret', 'setSecret', 'testSecret'],
    failing: {
      step: 'finishSecret',
      fault: () => secretsManagerFault('UpdateSecretVersionStageCommand', 'before', 2),
    },
    works: 'AWSCURRENT',
  },
];

/** The stored password that logs in now: AWSCURRENT's, else AWSPENDING's. */
async function workingStage(arn: string, username: string): Promise<'AWSCURRENT' | 'AWSPENDING' | 'none'> {
  const current = await valueAt(sm, arn, 'AWSCURRENT');
  const pending = await valueAt(sm, arn, 'AWSPENDING');
  for (const value of [current, pending]) if (value?.password) seen.push(value.password);
  if (current && (await canLogin(username, current.password ?? ''))) return 'AWSCURRENT';
  if (pending && (await canLogin(username, pending.password ?? ''))) return 'AWSPENDING';
  return 'none';
}

describe('rotateDatabase loses no credential when a step fails', () => {
  it.each(cases)('$name, then a retry completes', async ({ before, failing, works }) => {
    const username = uniqueName('crash_user');
    const password = hostilePassword();
    seen.push(password);
    await createRole(username, password);
    const value = seedDatabaseSecret({ username, password, port: proxy.port });
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/crash'), value);

    await runSteps(handler(), arn, token, before);
    if (failing) {
      const fault = failing.fault();
      fault.arm?.();
      const attempt = runSteps(handler(fault), arn, token, [failing.step]);
      if (failing.completes) await expect(attempt).resolves.toMatchObject([{ outcome: 'done' }]);
      else await expect(attempt).rejects.toThrow();
      proxy.setAvailable(true);
      expect(fault.fired(), 'the injected fault fired').toBeGreaterThan(0);
    }

    expect(await workingStage(arn, username)).toBe(works);

    await runSteps(handler(), arn, token, STEPS);

    expect(await workingStage(arn, username)).toBe('AWSCURRENT');
    const stages = await stagesOf(sm, arn);
    expect(stages[token]).toEqual(['AWSCURRENT']);
    expect(Object.values(stages).flat()).not.toContain('AWSPENDING');
    expect(await canLogin(username, password)).toBe(false);
    expect(findLeaks(output.text(), seen)).toEqual([]);
  });
});

describe('rotateDatabase fails closed when a version it depends on cannot be read', () => {
  it('fails setSecret, changing nothing, when AWSPREVIOUS (the password that logs in) cannot be read; a retry completes', async () => {
    // Prepare: AWSCURRENT holds a password the database refuses; AWSPREVIOUS holds the one it takes.
    const username = uniqueName('previous_user');
    const password = hostilePassword();
    const refused = hostilePassword();
    seen.push(password, refused);
    await createRole(username, password);
    const { arn } = await createRotatingSecret(
      sm,
      uniqueName('production/database/previous'),
      seedDatabaseSecret({ username, password }),
      { rotate: false },
    );
    const previousId = Object.entries(await stagesOf(sm, arn)).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        SecretString: JSON.stringify(seedDatabaseSecret({ username, password: refused })),
      }),
    );
    const token = await startRotation(sm, arn);
    await runSteps(handler(), arn, token, ['createSecret']);
    const pending = (await valueAt(sm, arn, 'AWSPENDING'))?.password ?? '';
    seen.push(pending);
    const stagesBefore = await stagesOf(sm, arn);
    const unreadable = injectFault(
      secretsManager(),
      'GetSecretValueCommand',
      'before',
      1,
      (input) => input.VersionId === previousId,
    );

    // Act
    const error = await runSteps(handler({ secretsManager: unreadable }), arn, token, ['setSecret']).catch(
      (e: unknown) => e,
    );

    // Assess: the read failed the step (not "no AWSPREVIOUS", which would end in NoWorkingCredentialError).
    expect(unreadable.faultsFired).toBe(1);
    expect(error).toMatchObject({
      name: 'SecretStoreError',
      message: expect.stringContaining(`could not read version ${previousId}`),
    });
    expect(await canLogin(username, password)).toBe(true);
    expect(await canLogin(username, pending)).toBe(false);
    expect(await stagesOf(sm, arn)).toEqual(stagesBefore);

    // Secrets Manager's retry reads AWSPREVIOUS, logs in with it and completes the rotation.
    await runSteps(handler(), arn, token, ['setSecret', 'testSecret', 'finishSecret']);
    expect(await canLogin(username, pending)).toBe(true);
    expect(await canLogin(username, password)).toBe(false);
  });
});
