/**
 * moto cannot invoke a Lambda, so its RotateSecret differs from AWS's where the function would
 * run. AWS's API reference:
 * - `RotateImmediately: false`: "Secrets Manager tests the rotation configuration by running
 *   the testSecret step of the Lambda rotation function. The test creates an AWSPENDING version
 *   of the secret and then removes it." moto stages AWSPENDING (a copy of AWSCURRENT), leaves
 *   it there, and answers ResourceNotFoundException for the function;
 * - `RotateImmediately: true` (the default): AWS stages the new version's empty AWSPENDING and
 *   invokes the function, which then runs the four steps; moto stages it and answers
 *   ResourceNotFoundException.
 * This middleware gives a moto-backed client AWS's answers: the call succeeds, and after a
 * configuration-only call the AWSPENDING version moto left is unlabelled, as AWS's test leaves
 * none. Any other error passes through. `adjusted` counts the calls it changed.
 */
import {
  DescribeSecretCommand,
  type RotateSecretCommandInput,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';

/** How many RotateSecret answers this middleware turned into AWS's, for tests to assert that it acted. */
export const adjustedRotations = { count: 0 };

const cannotInvoke = (error: unknown) =>
  error instanceof Error &&
  error.name === 'ResourceNotFoundException' &&
  /Resource not found for ARN 'arn:aws:lambda:/.test(error.message);

/** Makes `client`'s RotateSecret answer as AWS's does when the rotation function exists. */
export function withAwsRotateSemantics<C extends SecretsManagerClient>(client: C): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'RotateSecretCommand') return next(args);
      const input = args.input as RotateSecretCommandInput;
      try {
        return await next(args);
      } catch (error) {
        if (!cannotInvoke(error)) throw error;
        const out = await client.send(new DescribeSecretCommand({ SecretId: input.SecretId }));
        const pending = Object.entries(out.VersionIdsToStages ?? {}).find(
          ([, stages]) => stages?.includes('AWSPENDING') && !stages.includes('AWSCURRENT'),
        )?.[0];
        if (input.RotateImmediately === false && pending)
          await client.send(
            new UpdateSecretVersionStageCommand({
              SecretId: input.SecretId,
              VersionStage: 'AWSPENDING',
              RemoveFromVersionId: pending,
            }),
          );
        adjustedRotations.count++;
        return {
          output: {
            $metadata: { httpStatusCode: 200 },
            ARN: out.ARN,
            Name: out.Name,
            ...(input.RotateImmediately === false ? {} : { VersionId: pending }),
          },
          response: {},
        };
      }
    },
    { step: 'initialize', name: 'awsRotateSemantics' },
  );
  return client;
}
