/**
 * Finding: the RDS master strategy calls ModifyDBInstance for any secret that names a
 * database and its MasterUsername, without proof the secret holds the master password.
 *
 * PostgresRdsMasterStrategy.setPending (shared/postgres/rds-master.ts) tries only the
 * PENDING password, then asks RDS to set it. AWSCURRENT's password is never tried. So any
 * secret under production/database/ (a stale copy, or one written by someone who does not
 * hold the master password) resets the master password of a database in the function's
 * rdsInstances pattern, and its writer reads the new one. The real master secret is locked
 * out.
 */
import { CreateDBInstanceCommand } from '@aws-sdk/client-rds';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDatabaseRotationConfig } from '../../shared/config/index.js';
import {
  captureOutput,
  createRotatingSecret,
  findLeaks,
  runSteps,
  stack,
  uniqueName,
} from '../support/bed.js';
import { createMasterRole, rdsClient, routedConnector } from '../support/databases.js';
import { handler, sm } from './helpers.js';

let output: ReturnType<typeof captureOutput>;
let seen: string[];
beforeEach(() => {
  seen = [];
  output = captureOutput();
});
afterEach(() => {
  output.stop();
  expect(findLeaks(output.text(), seen)).toEqual([]);
});

describe('RDS master password, the secret that asks for it', () => {
  it("calls no ModifyDBInstance for a secret whose AWSCURRENT password is not the master's", async () => {
    // Prepare: an RDS instance whose master is a real role; its master password is held elsewhere.
    const master = await createMasterRole();
    seen.push(master.password);
    const id = uniqueName('production-db');
    const rds = rdsClient();
    const modifies: string[] = [];
    rds.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ModifyDBInstanceCommand') modifies.push(context.commandName);
        return next(args);
      },
      { step: 'initialize', name: 'recordModify' },
    );
    const { port, host } = stack().postgres;
    const created = await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        MasterUsername: master.username,
        MasterUserPassword: 'unused-by-moto',
        AllocatedStorage: 20,
        Port: port,
      }),
    );
    const endpoint = created.DBInstance?.Endpoint?.Address ?? '';
    // A secret that names the database and its master user, without the master's password.
    const { arn, token } = await createRotatingSecret(sm, uniqueName('production/database/copy'), {
      engine: 'postgres',
      host: endpoint,
      port,
      username: master.username,
      password: 'not-the-master-password',
      dbname: 'postgres',
      ssl: false,
      dbInstanceIdentifier: id,
    });
    const connector = routedConnector(
      { [endpoint.toLowerCase()]: { host, port } },
      loadDatabaseRotationConfig({}).database,
    );

    // Act
    const error = await runSteps(handler({ rds, connector }), arn, token, [
      'createSecret',
      'setSecret',
    ]).catch((e: unknown) => e);

    // Assess: refused before RDS is asked for anything.
    expect.soft(error, 'setSecret went ahead without proof').toBeInstanceOf(Error);
    expect(modifies, 'ModifyDBInstance was called for a secret that cannot log in as the master').toEqual([]);
  });
});
