'use strict';
/**
 * An AWS::SecretsManager::RotationSchedule for each secret the `rotatedSecrets` param lists
 * (`database/primary`, `api-keys/aws`, … under `{environment}/`; a YAML list, or comma-separated
 * on the command line). The secrets are created outside the stack. The schedule is the
 * policy's: every `rotationScheduleDays` days, or the `rotationWindow` (`<ScheduleExpression>
 * <Duration>`). No rotation starts at deploy time: the first runs on the schedule (or by rotateNow);
 * Secrets Manager only runs testSecret once (on a copy of the current value), so every
 * permission the function needs is in place first.
 * Loaded by serverless.yml (`${file(resources/rotation-schedules.cjs)}`); returns CloudFormation.
 */

/** The function that rotates each category of secret, by its logical id. */
const ROTATION_FUNCTIONS = { database: 'RotateDatabase', 'api-keys': 'RotateApiKey' };

/** `cron(0 2 ? * SAT#1 *) 3h` → { ScheduleExpression, Duration }; a bare expression has no Duration. */
function rulesOfWindow(window) {
  const match = /^((?:cron|rate)\(.+\))(?:\s+(\d{1,2}h))?$/.exec(window);
  if (!match)
    throw new Error(`rotationWindow must be "<cron(…) or rate(…)>[ <N>h]" (got ${JSON.stringify(window)})`);
  return { ScheduleExpression: match[1], ...(match[2] ? { Duration: match[2] } : {}) };
}

/** `api-keys/google` → `ApiKeysGoogle`. */
const pascal = (name) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

module.exports = async ({ resolveVariable }) => {
  const environment = await resolveVariable('param:environment');
  const listed = (await resolveVariable('param:rotatedSecrets')) ?? [];
  const names = (Array.isArray(listed) ? listed : String(listed).split(','))
    .map((name) => String(name).trim())
    .filter(Boolean);
  const window = String((await resolveVariable('param:rotationWindow')) ?? '').trim();
  const days = Number(await resolveVariable('param:rotationScheduleDays'));
  if (!window && !(Number.isInteger(days) && days >= 1 && days <= 1000))
    throw new Error(`rotationScheduleDays must be a whole number of days from 1 to 1000 (got ${days})`);
  const RotationRules = window ? rulesOfWindow(window) : { AutomaticallyAfterDays: days };
  // The KMS policies exist only with a key (resources/kms.cjs).
  const kmsPolicies = String((await resolveVariable('param:kmsKeyArn')) ?? '').trim()
    ? ['SecretsKeyDecryptPolicy', 'SecretsKeyEncryptPolicy']
    : [];

  const Resources = {};
  for (const name of names) {
    const category = name.split('/')[0];
    const rotator = ROTATION_FUNCTIONS[category];
    if (!rotator || !/^[a-z-]+\/[\w/+=.@-]+$/.test(name))
      throw new Error(`rotatedSecrets: ${JSON.stringify(name)} is not database/<name> or api-keys/<name>`);
    const id = `RotationSchedule${pascal(name)}`;
    if (Resources[id]) throw new Error(`rotatedSecrets: ${name} is listed twice`);
    Resources[id] = {
      Type: 'AWS::SecretsManager::RotationSchedule',
      // Secrets Manager checks that it may invoke the function, and runs its testSecret.
      DependsOn: [`${rotator}SecretsManagerPermission`, ...kmsPolicies],
      Properties: {
        SecretId: `${environment}/${name}`,
        RotationLambdaARN: { 'Fn::GetAtt': [`${rotator}LambdaFunction`, 'Arn'] },
        RotationRules,
        RotateImmediatelyOnUpdate: false,
      },
    };
  }
  return { Resources };
};
