import { awsErrorText, isAwsServiceError } from '../logging/aws-error.js';
import {
  AccessDeniedError,
  SecretNotFoundError,
  SecretsError,
  SecretsManagerUnavailableError,
} from './errors.js';
import { SECRET_NAME_FORMAT, secretResourceArn } from './names.js';

/** The IAM action every read needs. */
export const GET_SECRET_VALUE = 'secretsmanager:GetSecretValue';

/** Codes AWS answers when the request's credentials themselves are refused (unknown, deleted, badly signed, expired). */
const CREDENTIAL_CODES = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredToken',
  'ExpiredTokenException',
  // The SDK found no credentials at all.
  'CredentialsProviderError',
]);

/** Codes of a Secrets Manager that could not answer now; anything without an HTTP answer counts too. */
const UNAVAILABLE_CODES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

interface AwsErrorShape {
  readonly name?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Where the read went: for the resource ARN of an access-denied error. */
export interface ReadTarget {
  readonly secretId: string;
  readonly region: string;
}

/**
 * Turns a failed GetSecretValue into the library's typed error:
 * - ResourceNotFoundException → {@link SecretNotFoundError};
 * - AccessDeniedException, refused credentials, or any HTTP 403 → {@link AccessDeniedError};
 * - no answer, throttling, 5xx → {@link SecretsManagerUnavailableError} (the only kind the
 *   environment fallback may cover);
 * - anything else (e.g. DecryptionFailure) → {@link SecretsError}.
 * AWS's error messages name principals, actions and resources, never a secret value, and are
 * kept; any other error's message (a deserialization error may quote the response body) is not.
 */
export function toSecretsError(error: unknown, target: ReadTarget): SecretsError {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  const code = typeof shape.name === 'string' ? shape.name : 'Error';
  // Only an AWS service exception's message is quoted: any other error (a response body that
  // would not parse, which for GetSecretValue holds the secret) is named, never quoted.
  const message = isAwsServiceError(error) ? error.message : '';
  const detail = awsErrorText(error);
  const status = shape.$metadata?.httpStatusCode;
  const { secretId } = target;

  if (code === 'ResourceNotFoundException') {
    return new SecretNotFoundError(
      `Secret not found: ${secretId} in ${target.region} (expected format ${SECRET_NAME_FORMAT}; check the name and ENVIRONMENT, that the secret exists in this region, and that IAM allows reading it)`,
      { secretName: secretId, expectedFormat: SECRET_NAME_FORMAT },
      { cause: error },
    );
  }
  if (
    code === 'AccessDeniedException' ||
    code === 'AccessDenied' ||
    CREDENTIAL_CODES.has(code) ||
    status === 403
  ) {
    return accessDenied(code, message, target, error);
  }
  if (status === undefined || shape.$fault === 'server' || UNAVAILABLE_CODES.has(code)) {
    return new SecretsManagerUnavailableError(
      `Secrets Manager is unavailable: could not read ${secretId} in ${target.region}: ${detail}`,
      { cause: error },
    );
  }
  return new SecretsError(`Secrets Manager could not read ${secretId}: ${detail}`, {
    cause: error,
  });
}

function accessDenied(code: string, message: string, target: ReadTarget, error: unknown): AccessDeniedError {
  // AWS: "User: arn:aws:iam::123456789012:user/app is not authorized to perform: secretsmanager:GetSecretValue on resource: <id> because …"
  const principal = /User: (arn:[\w-]+:(?:iam|sts)::\d{12}:\S+)/.exec(message)?.[1];
  const principalParts = principal ? /^arn:([\w-]+):(?:iam|sts)::(\d{12}):/.exec(principal) : null;
  const action = /perform: ([\w-]+:\w+)/.exec(message)?.[1] ?? GET_SECRET_VALUE;
  const namedResource = /on resource: (arn:\S+?)(?:\s|$)/.exec(message)?.[1];
  const resource =
    namedResource ??
    secretResourceArn(target.secretId, {
      partition: principalParts?.[1] ?? 'aws',
      region: target.region,
      account: principalParts?.[2] ?? '*',
    });
  const credentials = CREDENTIAL_CODES.has(code);
  const why = credentials
    ? `AWS refused the request's credentials (${code}): check the AWS credentials are configured correctly`
    : `${code}: check the IAM policy${principal ? ` of ${principal}` : ''} allows ${action} on this resource (and kms:Decrypt on the secret's KMS key)`;
  return new AccessDeniedError(
    `Access denied: ${action} on ${resource}: ${why}`,
    { action, resource, code, ...(principal ? { principal } : {}) },
    { cause: error },
  );
}
