import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { ApiKeyRotationConfig } from '../../config/index.js';
import type { RetryPolicy } from '../http.js';
import type { ApiKeyProvider } from '../provider.js';
import { createAwsProvider } from './aws/index.js';
import { createClerkProvider } from './clerk/index.js';
import { createGoogleProvider } from './google/index.js';
import { createResendProvider } from './resend/index.js';

/**
 * The built-in providers, by name. Adding a provider is one module under `providers/`
 * implementing {@link ApiKeyProvider}, and one line here.
 */
export function createProviders(
  config: ApiKeyRotationConfig,
  options: { retry?: RetryPolicy; iam?: IAMClient } = {},
): ReadonlyMap<string, ApiKeyProvider> {
  const retry = options.retry ? { retry: options.retry } : {};
  const { endpoints } = config;
  const providers: ApiKeyProvider[] = [
    createAwsProvider({
      iam: options.iam ?? new IAMClient({}),
      stsFor: (credentials) => new STSClient({ credentials }),
      propagation: config.iamPropagation,
    }),
    createResendProvider({ baseUrl: endpoints.resend, ...retry }),
    createGoogleProvider({
      apiKeysUrl: endpoints.googleApiKeys,
      safeBrowsingUrl: endpoints.googleSafeBrowsing,
      recaptchaVerifyUrl: endpoints.recaptchaVerify,
      ...retry,
    }),
    createClerkProvider({ apiUrl: endpoints.clerk, ...retry }),
  ];
  return new Map(providers.map((provider) => [provider.name, provider]));
}
