import { createHash } from 'node:crypto';

/**
 * A rotation's fingerprint at a provider: `length` hex digits of the SHA-256 of the secret's
 * ARN and the rotation's token. Every attempt of one rotation of one secret gets the same
 * digest; another secret rotated with the same token (a caller may pass any token, and scripts
 * reuse one) gets another, so a key named or identified by it provably belongs to this secret
 * and this rotation.
 */
export function rotationDigest(secretArn: string, token: string, length: number): string {
  // A newline cannot occur in an ARN, so no two (ARN, token) pairs hash the same input.
  return createHash('sha256').update(`${secretArn}\n${token}`).digest('hex').slice(0, length);
}

/**
 * A secret's fingerprint at a provider: `length` hex digits of the SHA-256 of its ARN alone.
 * Every rotation of the secret shares it, so it marks a credential as this secret's whichever
 * rotation made it. (It never equals a {@link rotationDigest}: that hashes a newline too.)
 */
export function secretDigest(secretArn: string, length: number): string {
  return createHash('sha256').update(secretArn).digest('hex').slice(0, length);
}
