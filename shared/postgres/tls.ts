import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { type ConnectionOptions, rootCertificates } from 'node:tls';
import { RotationError } from '../rotation/errors.js';
import type { SslMode } from './secret.js';

/**
 * Amazon's RDS certificate bundle (`global-bundle.pem`: every region's RDS root and
 * intermediate CAs), shipped with the package at this path, relative to the function's root
 * (`LAMBDA_TASK_ROOT` on Lambda, the working directory in tests and local runs). The one
 * place the bundle is named: `serverless.yml` packages the same file, and the README says
 * how to refresh it.
 */
export const RDS_CA_BUNDLE_FILE = 'shared/postgres/tls/global-bundle.pem';

/** Thrown when the shipped RDS certificate bundle cannot be read or holds no certificate. */
export class RdsCaBundleError extends RotationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RdsCaBundleError';
  }
}

/** Host names RDS gives its instances, clusters and proxies (commercial and China regions). */
const RDS_HOST = /\.rds\.amazonaws\.com(\.cn)?\.?$/i;

/** True when `host` is an RDS endpoint name (`….rds.amazonaws.com`). */
export function isRdsHost(host: string): boolean {
  return RDS_HOST.test(host);
}

/** The PEM certificates of a bundle, one string each. */
export function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/** The bundle's certificates, by file: read once per file. */
const rdsBundles = new Map<string, readonly string[]>();

/**
 * The shipped RDS bundle's certificates, read once.
 * @throws {RdsCaBundleError} when the bundle is missing or empty: no RDS connection is then
 * made, rather than one that is not verified.
 */
export function rdsBundleCertificates(
  root = process.env.LAMBDA_TASK_ROOT ?? process.cwd(),
): readonly string[] {
  const file = isAbsolute(RDS_CA_BUNDLE_FILE) ? RDS_CA_BUNDLE_FILE : join(root, RDS_CA_BUNDLE_FILE);
  const known = rdsBundles.get(file);
  if (known) return known;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RdsCaBundleError(
      `the RDS certificate bundle ${file} cannot be read: the package must ship it (see the README, "TLS to RDS")`,
      { cause: error },
    );
  }
  const certificates = splitPem(pem);
  if (certificates.length === 0) {
    throw new RdsCaBundleError(`the RDS certificate bundle ${file} holds no certificate`);
  }
  rdsBundles.set(file, certificates);
  return certificates;
}

/** The RDS bundle followed by Node's public roots, by file. */
const rdsWithPublicRoots = new Map<readonly string[], readonly string[]>();

/**
 * What an RDS server's certificate is verified against, for a sslmode:
 * - `verify-full`: the shipped RDS bundle and Node's public roots (RDS Proxy presents a
 *   certificate from Amazon Trust Services, a public CA); the host name is checked, so a
 *   public CA's certificate for another name is refused;
 * - `require` and `verify-ca` (the chain, no host name): the RDS bundle alone. Its CAs issue
 *   certificates to RDS databases only; a public CA issues one to anybody for a domain of
 *   their own, which a chain-only check would accept. RDS Proxy therefore needs `verify-full`.
 * @throws {RdsCaBundleError} when the bundle is missing or empty.
 */
export function rdsTrustedCertificates(
  mode: SslMode,
  root = process.env.LAMBDA_TASK_ROOT ?? process.cwd(),
): readonly string[] {
  const bundle = rdsBundleCertificates(root);
  if (mode !== 'verify-full') return bundle;
  let trust = rdsWithPublicRoots.get(bundle);
  if (!trust) {
    trust = [...bundle, ...rootCertificates];
    rdsWithPublicRoots.set(bundle, trust);
  }
  return trust;
}

/**
 * The TLS options for a libpq sslmode. Never falls back to plaintext.
 *
 * `ca` is the trust configured for this database (`DB_TLS_CA_FILE`, or the RDS bundle for an
 * RDS database). As libpq does when a root certificate is present, `require` with a CA
 * configured verifies the certificate chain (like `verify-ca`); without one it only encrypts.
 * `verify-full` without a CA verifies against Node's roots.
 */
export function tlsOptions(
  mode: SslMode,
  ca: string | readonly string[] | undefined,
): false | ConnectionOptions {
  const trust = ca === undefined ? {} : { ca: typeof ca === 'string' ? ca : [...ca] };
  switch (mode) {
    case 'disable':
      return false;
    case 'require':
      return ca === undefined
        ? { rejectUnauthorized: false }
        : { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...trust };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...trust };
    case 'verify-full':
      return { rejectUnauthorized: true, ...trust };
    default: {
      const unknown: never = mode;
      throw new TypeError(`unknown sslmode ${String(unknown)}`);
    }
  }
}

/** How a connection's server certificate is checked, for logs. */
export type TlsVerification = 'off' | 'encrypted-unverified' | 'chain-only' | 'full';

/** What {@link tlsOptions} verifies for a mode and whether a CA is configured. */
export function tlsVerification(mode: SslMode, caConfigured: boolean): TlsVerification {
  switch (mode) {
    case 'disable':
      return 'off';
    case 'require':
      return caConfigured ? 'chain-only' : 'encrypted-unverified';
    case 'verify-ca':
      return 'chain-only';
    case 'verify-full':
      return 'full';
    default: {
      const unknown: never = mode;
      throw new TypeError(`unknown sslmode ${String(unknown)}`);
    }
  }
}
