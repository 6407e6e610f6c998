import { Logger } from '@aws-lambda-powertools/logger';
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
  runSteps,
  STEPS,
  secretsManager,
  seedDatabaseSecret,
  stack,
  stagesOf,
  uniqueName,
  valueAt,
} from '../support/bed.js';
import {
  type DatabaseFault,
  databaseDown,
  secretsManagerFault,
  statementFault,
} from '../support/database-faults.js';
import { createMasterRole, rdsClient, roleName, sql } from '../support/databases.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * Alternating users with a failure after each step and inside each step. Unlike single user,
 * AWSCURRENT's credentials log in at every point (the rotation never changes the login
 * AWSCURRENT uses), and a retry with the same token completes. Each attempt runs on a fresh
 * handler, as on a new Lambda container, and each test asserts that its fault fired.
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

interface Context {
  masterArn: string;
}

function handler(fault: Partial<DatabaseFault> = {}) {
  return buildRotateDatabaseHandler({
    config,
    secretsManager: fault.secretsManager ?? sm,
    rds: rdsClient(),
    logger: new Logger({ serviceName: 'rotation-alternating-failures', logLevel: 'DEBUG' }),
    ...(fault.connector ? { connector: fault.connector } : {}),
  });
}

interface Case {
  name: string;
  before: StepName[];
  failing?: { step: StepName; fault: (context: Context) => DatabaseFault; completes?: boolean };
  /** What else holds right after the failure. */
  afterFailure?: (original: string) => Promise<void>;
}

const cases: Case[] = [
  { name: 'a crash after createSecret', before: ['createSecret'] },
  { name: 'a crash after setSecret', before: ['createSecret', 'setSecret'] },
  { name: 'a crash after testSecret', before: ['createSecret', 'setSecret', 'testSecret'] },
  {
    name: 'createSecret: GetRandomPassword fails',
    before: [],
    failing: { step: 'createSecret', fault: () => secretsManagerFault('GetRandomPasswordCommand', 'before') },
  },
  {
    name: 'createSecret: PutSecretValue stored the value but its response was lost',
    before: [],
    failing: {
      step: 'createSecret',
      fault: () => secretsManagerFault('PutSecretValueCommand', 'after'),
      completes: true,
    },
  },
  {
    name: 'setSecret: the master secret cannot be read',
    before: ['createSecret'],
    failing: {
      step: 'setSecret',
      fault: ({ masterArn }) =>
        secretsManagerFault('GetSecretValueCommand', 'before', 1, (input) => input.SecretId === masterArn),
    },
  },
  {
    name: 'setSecret: the master secret cannot be described',
    before: ['createSecret'],
    failing: {
      step: 'setSecret',
      fault: ({ masterArn }) =>
        secretsManagerFault('DescribeSecretCommand', 'before', 1, (input) => input.SecretId === masterArn),
    },
  },
  {
    name: 'setSecret: the database is unreachable',
    before: ['createSecret'],
    failing: { step: 'setSecret', fault: () => databaseDown(proxy) },
  },
  {
    name: 'setSecret: the transaction fails after the clone is created, before the password (rolled back)',
    before: ['createSecret'],
    failing: {
      step: 'setSecret',
      fault: () => statementFault(config.database, /^ALTER ROLE .* WITH PASSWORD/, 'before'),
    },
  },
  {
    name: 'setSecret: COMMIT applied but the connection dropped before its reply',
    before: ['createSecret'],
    failing: { step: 'setSecret', fault: () => statementFault(config.database, /^COMMIT$/, 'after') },
  },
  {
    name: 'testSecret: the database is unreachable',
    before: ['createSecret', 'setSecret'],
    failing: { step: 'testSecret', fault: () => databaseDown(proxy) },
  },
  {
    name: 'finishSecret: moving AWSCURRENT fails',
    before: ['createSecret', 'setSecret', 'testSecret'],
    failing: {
      step: 'finishSecret',
      fault: () => secretsManagerFault('UpdateSecretVersionStageCommand', 'before'),
    },
  },
  {
    name: 'finishSecret: AWSCURRENT moved but the response was lost',
    before: ['createSecret', 'setSecret', 'testSecret'],
    failing: {
      step: 'finishSecret',
      fault: () => secretsManagerFault('UpdateSecretVersionStageCommand', 'after'),
    },
  },
  {
    name: 'finishSecret: removing AWSPENDING fails',
    before: ['createSecret', 'setSecret', 'testSecret'],
    failing: {
      step: 'finishSecret',
      fault: () => secretsManagerFault('UpdateSecretVersionStageCommand', 'before', 2),
    },
  },
];

/** True when AWSCURRENT's stored credentials log in now. */
async function currentLogsIn(arn: string): Promise<boolean> {
  const current = await valueAt(sm, arn, 'AWSCURRENT');
  const pending = await valueAt(sm, arn, 'AWSPENDING');
  for (const value of [current, pending]) if (value?.password) seen.push(value.password);
  return canLogin(current?.username ?? '', current?.password ?? '');
}

describe('rotateDatabase, alternating users, loses no credential when a step fails', () => {
  it.each(cases)(
    '$name: AWSCURRENT logs in throughout, then a retry completes',
    async ({ before, failing }) => {
      // Prepare: master and user reach PostgreSQL through the proxy (one database, as the check requires).
      const master = await createMasterRole();
      seen.push(master.password);
      const { arn: masterArn } = await createRotatingSecret(
        sm,
        uniqueName('production/database/master'),
        seedDatabaseSecret({ ...master, port: proxy.port }),
        { rotate: false },
      );
      const original = roleName('crash');
      const password = hostilePassword();
      seen.push(password);
      await createRole(original, password);
      const value = seedDatabaseSecret({
        username: original,
        password,
        port: proxy.port,
        extra: { masterarn: masterArn },
      });
      const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/crash'), value);

      await runSteps(handler(), arn, token, before);
      expect(await currentLogsIn(arn)).toBe(true);
      if (failing) {
        const fault = failing.fault({ masterArn });
        fault.arm?.();
        const attempt = runSteps(handler(fault), arn, token, [failing.step]);
        if (failing.completes) await expect(attempt).resolves.toMatchObject([{ outcome: 'done' }]);
        else await expect(attempt).rejects.toThrow();
        proxy.setAvailable(true);
        expect(fault.fired(), 'the injected fault fired').toBeGreaterThan(0);
      }

      // Assess: AWSCURRENT's credentials log in at the failure point, and the original's are untouched.
      expect(await currentLogsIn(arn)).toBe(true);
      expect(await canLogin(original, password)).toBe(true);

      await runSteps(handler(), arn, token, STEPS);

      const current = await valueAt(sm, arn, 'AWSCURRENT');
      seen.push(current?.password ?? '');
      expect(current?.username).toBe(`${original}_clone`);
      expect(await canLogin(current?.username ?? '', current?.password ?? '')).toBe(true);
      expect(await canLogin(original, password)).toBe(true);
      const stages = await stagesOf(sm, arn);
      expect(stages[token]).toEqual(['AWSCURRENT']);
      expect(Object.values(stages).flat()).not.toContain('AWSPENDING');
      expect(
        await sql(
          `SELECT 1 AS member FROM pg_auth_members WHERE roleid = '${original}'::regrole AND member = '${original}_clone'::regrole`,
        ),
      ).toEqual([{ member: 1 }]);
    },
  );
});
