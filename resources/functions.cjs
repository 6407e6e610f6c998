'use strict';
/**
 * What every function of serverless.yml gets, including functions added later:
 * - a policy on its role to write its own log group (and no other) and to send a failed
 *   asynchronous invocation to the dead-letter queue;
 * - the asynchronous-invocation settings that send it there after Lambda's two retries;
 * - an alarm on its errors, to the alerts topic.
 * Loaded by serverless.yml (`${file(resources/functions.cjs)}`); returns CloudFormation.
 */

/** The framework's logical id of function `name` (rotateApiKey: RotateApiKey). */
const logicalIdOf = (name) =>
  name.charAt(0).toUpperCase() + name.slice(1).replace(/-/g, 'Dash').replace(/_/g, 'Underscore');

/** The logical id of the role a function's `role` names: a name, `!GetAtt Role.Arn` or `!Sub '${Role.Arn}'`. */
function roleIdOf(functionName, role) {
  if (role === undefined) return 'IamRoleLambdaExecution';
  if (typeof role === 'string' && /^[A-Za-z0-9]+$/.test(role)) return role;
  const getAtt = role?.['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn') return getAtt[0];
  const sub = typeof role?.['Fn::Sub'] === 'string' && /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(role['Fn::Sub']);
  if (sub) return sub[1];
  throw new Error(
    `function ${functionName}: role must name a role of this stack (got ${JSON.stringify(role)})`,
  );
}

module.exports = async ({ resolveConfigurationProperty, resolveVariable }) => {
  const service = await resolveConfigurationProperty(['service']);
  const stage = await resolveVariable('sls:stage');
  const functions = (await resolveConfigurationProperty(['functions'])) ?? {};
  const Resources = {};
  const extensions = {};
  for (const [name, definition] of Object.entries(functions)) {
    const id = logicalIdOf(name);
    const functionName = definition.name ?? `${service}-${stage}-${name}`;
    Resources[`${id}OperationsPolicy`] = {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'operations',
        Roles: [{ Ref: roleIdOf(name, definition.role) }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'WriteOwnLogs',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: { 'Fn::GetAtt': [`${id}LogGroup`, 'Arn'] },
            },
            {
              Sid: 'SendFailedAsyncInvocations',
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] },
            },
          ],
        },
      },
    };
    // Lambda checks the destination's permission when the configuration is created.
    Resources[`${id}EventInvokeConfig`] = {
      Type: 'AWS::Lambda::EventInvokeConfig',
      DependsOn: [`${id}OperationsPolicy`],
      Properties: {
        FunctionName: { Ref: `${id}LambdaFunction` },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } } },
      },
    };
    Resources[`${id}ErrorsAlarm`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `${functionName}-errors`,
        AlarmDescription: `${name} failed (its log group /aws/lambda/${functionName} has the error, logged as "invocation failed")`,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${id}LambdaFunction` } }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlertsTopic' }],
      },
    };
    // Its logs can be written from its first invocation.
    extensions[`${id}LambdaFunction`] = { DependsOn: [`${id}OperationsPolicy`] };
  }
  return { Resources, extensions };
};
