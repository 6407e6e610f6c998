import type { SecretDescription } from '../rotation/secret-store.js';
import { UnknownProviderError } from './errors.js';
import type { ApiKeyProvider } from './provider.js';

/** The secret tag that names a secret's provider, e.g. `rotation-provider = resend`. */
export const PROVIDER_TAG = 'rotation-provider';

/**
 * Picks the provider for a secret: its `rotation-provider` tag, else the last part of its
 * name (`production/api-keys/resend` → `resend`).
 * @throws {UnknownProviderError} naming the providers that exist.
 */
export function providerFor(
  secret: SecretDescription,
  providers: ReadonlyMap<string, ApiKeyProvider>,
): ApiKeyProvider {
  const tagged = secret.tags[PROVIDER_TAG]?.trim();
  const name = tagged || (secret.name.split('/').at(-1) ?? '');
  const provider = providers.get(name);
  if (provider) return provider;
  const known = [...providers.keys()].join(', ');
  throw new UnknownProviderError(
    tagged
      ? `secret ${secret.name} is tagged ${PROVIDER_TAG}=${tagged}, which is not a provider (known: ${known})`
      : `no provider for secret ${secret.name}: name it …/api-keys/<provider> or tag it ${PROVIDER_TAG}=<provider> (known: ${known})`,
  );
}
