'use strict';
/**
 * Secrets under a customer-managed KMS key (the kmsKeyArn param): the functions that read secret
 * values may decrypt with that key, those that write them may also encrypt; only through
 * Secrets Manager, and no other key. Without the param, no KMS permission at all (the secrets
 * use aws/secretsmanager). Decided when packaging, so that the rotation schedules can wait for
 * these policies (resources/rotation-schedules.cjs).
 * Loaded by serverless.yml (`${file(resources/kms.cjs)}`); returns CloudFormation.
 */

/** A policy letting `roles` use the key for `action`, through Secrets Manager only. */
const keyPolicy = (name, sid, action, keyArn, roles) => ({
  Type: 'AWS::IAM::Policy',
  Properties: {
    PolicyName: name,
    Roles: roles.map((role) => ({ Ref: role })),
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: sid,
          Effect: 'Allow',
          Action: action,
          Resource: keyArn,
          Condition: {
            StringEquals: {
              'kms:ViaService': {
                'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
              },
            },
          },
        },
      ],
    },
  },
});

module.exports = async ({ resolveVariable }) => {
  const keyArn = String((await resolveVariable('param:kmsKeyArn')) ?? '').trim();
  if (!keyArn) return {};
  if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-zA-Z0-9-]+$/.test(keyArn))
    throw new Error(
      `kmsKeyArn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias (got ${keyArn})`,
    );
  return {
    Resources: {
      // GetSecretValue and BatchGetSecretValue: rotateDatabase, rotateApiKey (and the provider
      // credentials it reads), rotateNow (a rollback reads AWSPREVIOUS), complianceReport (rotated_at),
      // the enforcer and its worker (the fleet's values, for rotated_at and the revoke inputs).
      SecretsKeyDecryptPolicy: keyPolicy(
        'secrets-key-decrypt',
        'DecryptSecretsThroughSecretsManager',
        'kms:Decrypt',
        keyArn,
        [
          'RotateDatabaseRole',
          'RotateApiKeyRole',
          'RotateNowRole',
          'ComplianceReportRole',
          'EnforceRotationPolicyRole',
          'EnforceRotationPolicyWorkerRole',
        ],
      ),
      // PutSecretValue: the two rotation functions.
      SecretsKeyEncryptPolicy: keyPolicy(
        'secrets-key-encrypt',
        'EncryptSecretsThroughSecretsManager',
        'kms:GenerateDataKey',
        keyArn,
        ['RotateDatabaseRole', 'RotateApiKeyRole'],
      ),
    },
  };
};
