import type { SecretFields } from '../../rotation/strategy.js';
import { CredentialSecretRefusedError } from '../errors.js';
import type { ProviderContext } from '../provider.js';

/** The category of the secrets that hold the credentials providers manage keys with. */
export const CREDENTIALS_CATEGORY = 'rotation';

/** `arn:<partition>:secretsmanager:<region>:<account>:secret:`, and the secret's name (with its suffix, if any). */
const SECRET_ARN = /^(arn:[\w-]+:secretsmanager:[\w-]+:\d{12}:secret:)(.+)$/;

/**
 * The prefix every provider credential of the secret named `secretName` must have:
 * `{environment}/rotation/`, the environment being the first part of that name.
 */
export function credentialsPrefix(secretName: string): string | undefined {
  const environment = secretName.split('/')[0];
  return secretName.includes('/') && environment ? `${environment}/${CREDENTIALS_CATEGORY}/` : undefined;
}

/**
 * Reads the provider credential (a Resend admin key, a Google service account) that the
 * field `field` of the secret being rotated names, by name or ARN. Only a secret under
 * `{environment}/rotation/` (the rotated secret's environment), in the rotated secret's
 * account and region, is read: any other id, another team's API-key secret say, is refused
 * before any read, so one secret cannot borrow another's key.
 * @throws {CredentialSecretRefusedError} naming the field and where the credential must live.
 */
export async function readCredentialSecret(
  context: ProviderContext,
  field: string,
  secretId: string,
): Promise<SecretFields> {
  const { name, arn } = context.secret;
  const prefix = credentialsPrefix(name);
  const refuse = (why: string) =>
    new CredentialSecretRefusedError(
      `secret ${name}: ${field} ${why}. Provider credentials are read only from secrets named ` +
        `${prefix ?? '{environment}/rotation/'}<name> (by name, or by ARN in this secret's account and region); ` +
        `store the credential there and set ${field} to its name. Nothing was read`,
      { field },
    );
  if (!prefix) throw refuse(`cannot be checked: the secret's name has no {environment}/ prefix`);
  const asArn = SECRET_ARN.exec(secretId);
  let credentialName = secretId;
  if (asArn) {
    const own = SECRET_ARN.exec(arn);
    if (!own || own[1] !== asArn[1]) throw refuse('names a secret in another account, region or partition');
    credentialName = asArn[2] ?? '';
  } else if (secretId.startsWith('arn:')) {
    throw refuse('is not a Secrets Manager secret ARN');
  }
  if (!credentialName.startsWith(prefix) || credentialName.length === prefix.length) {
    throw refuse(`names a secret outside ${prefix}`);
  }
  return context.readSecret(secretId);
}
