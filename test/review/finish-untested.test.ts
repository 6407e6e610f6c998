/**
 * Review finding (rule 5): finishSecret promotes a pending version that holds a value that
 * parses, whether or not setSecret and testSecret ever ran for it. The README says "Never run
 * finishSecret on its own to clear a rotation. It is safe all the same". It is not: on a
 * rotation whose setSecret failed (database unreachable, the TLS case of rule 9), finishSecret
 * alone makes AWSCURRENT a password the database has never been told, and every application's
 * login fails.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRotateDatabaseHandler } from '../../functions/rotate-database/handler.js';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import {
  canLogin,
  captureOutput,
  createRole,
  createRotatingSecret,
  runSteps,
  secretsManager,
  seedDatabaseSecret,
  uniqueName,
  valueAt,
} from '../support/bed.js';

const sm = secretsManager();
let output: ReturnType<typeof captureOutput>;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.stop());

describe('rotateDatabase finishSecret (review, rule 5)', () => {
  it('never makes AWSCURRENT a password the database does not accept (finishSecret run on its own)', async () => {
    // Prepare: createSecret stored the pending password; setSecret never ran (it failed).
    const username = uniqueName('app_user');
    const password = `Pw-${uniqueName('x')}`;
    await createRole(username, password);
    const { arn, token } = await createRotatingSecret(
      sm,
      uniqueName('production/database/primary'),
      seedDatabaseSecret({ username, password }),
    );
    const handler = buildRotateDatabaseHandler({
      config: loadDatabaseRotationConfig({}),
      secretsManager: sm,
      logger: new Logger({ serviceName: 'review', logLevel: 'ERROR' }),
    });
    await runSteps(handler, arn, token, ['createSecret']);

    // Act: an operator runs finishSecret on its own, which the README calls safe.
    const outcome = await runSteps(handler, arn, token, ['finishSecret']).then(
      () => 'done',
      (error: Error) => error.name,
    );

    // Assess: either finishSecret refused, or AWSCURRENT's password logs in.
    const current = await valueAt(sm, arn, 'AWSCURRENT');
    expect(
      await canLogin(username, current?.password ?? ''),
      `finishSecret answered ${outcome}; AWSCURRENT's password is refused by the database`,
    ).toBe(true);
  });
});
