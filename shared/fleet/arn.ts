/** ARNs in the account and region a function runs in, derived from the ARN it was invoked with. */

/** Thrown when an ARN cannot be derived (the invoked ARN is not a Lambda function's). */
export class ArnDerivationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ArnDerivationError';
  }
}

/**
 * `arn:{partition}:{service}:{region}:{account}:{resource}` in the partition, region and account
 * of the Lambda function `invokedFunctionArn`. Settings can then be plain names, which keeps
 * `serverless invoke local` free of CloudFormation references.
 * @throws {ArnDerivationError}
 */
export function sameAccountArn(invokedFunctionArn: string, service: string, resource: string): string {
  const match = /^arn:([^:]+):lambda:([^:]+):(\d{12}):function:/.exec(invokedFunctionArn);
  if (!match)
    throw new ArnDerivationError(
      `cannot derive a ${service} ARN from ${invokedFunctionArn}: not a Lambda function ARN`,
    );
  return `arn:${match[1]}:${service}:${match[2]}:${match[3]}:${resource}`;
}

/** The ARN of a Lambda function given by name or ARN (an ARN is returned as it is), in the invoker's account and region. */
export function functionArn(nameOrArn: string, invokedFunctionArn: string): string {
  return nameOrArn.startsWith('arn:')
    ? nameOrArn
    : sameAccountArn(invokedFunctionArn, 'lambda', `function:${nameOrArn}`);
}

/**
 * The ARN of a Lambda function given by name or ARN (an ARN is returned as it is), in the
 * partition, region and account of the secret `secretArn`: where a secret's rotation function
 * lives. Needs no invocation context, so it works in `serverless invoke local` too.
 * @throws {ArnDerivationError} when `secretArn` is not a Secrets Manager secret ARN.
 */
export function functionArnBesideSecret(nameOrArn: string, secretArn: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  const match = /^arn:([^:]+):secretsmanager:([^:]+):(\d{12}):secret:/.exec(secretArn);
  if (!match)
    throw new ArnDerivationError(
      `cannot derive a Lambda ARN from ${secretArn}: not a Secrets Manager secret ARN`,
    );
  return `arn:${match[1]}:lambda:${match[2]}:${match[3]}:function:${nameOrArn}`;
}
