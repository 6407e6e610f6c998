import {
  GetAccessKeyLastUsedCommand,
  type IAMClient,
  ListAccessKeysCommand,
  NoSuchEntityException,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { keyHint } from '../api-keys/index.js';
import { isSecretsAccessKey } from '../api-keys/providers/aws/index.js';
import type { RotationLogger } from '../rotation/strategy.js';
import { RollbackError, RollbackRefusedError } from './errors.js';

/** A key made Active for a rollback, and how to put it back. */
export interface ReactivatedKey {
  readonly hint: string;
  /** Deactivates the key again (it was Inactive before). */
  restore(): Promise<void>;
}

/**
 * Makes the IAM access key that a secret's AWSPREVIOUS version holds Active again, when its
 * revocation deactivated it (the `aws` provider deactivates a superseded key after its grace
 * period and deletes it only at the next rotation). Only that one key is touched, and only
 * when the user's tag `rotation-key:<key id>` proves it is this secret's (an Inactive key
 * cannot sign in); its owner is IAM's own answer (GetAccessKeyLastUsed), never a name taken
 * from elsewhere.
 */
export class IamKeyReactivator {
  readonly #iam: IAMClient;

  constructor(iam: IAMClient) {
    this.#iam = iam;
  }

  /**
   * Reactivates `accessKeyId` if it is Inactive.
   * @returns the reactivated key, or undefined when it was already Active.
   * @throws {RollbackRefusedError} when IAM no longer has the key (deleted by a later rotation or by hand).
   */
  async activate(
    secret: { readonly name: string; readonly arn: string },
    accessKeyId: string,
    logger: RotationLogger,
  ): Promise<ReactivatedKey | undefined> {
    const secretName = secret.name;
    const hint = keyHint(accessKeyId);
    const gone = () =>
      new RollbackRefusedError(
        `cannot roll back secret ${secretName}: IAM no longer has the AWSPREVIOUS access key ${hint} (deleted by a later rotation or by hand)`,
      );
    const userName = await this.#call(`find the IAM user of access key ${hint}`, async () => {
      try {
        return (await this.#iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }))).UserName;
      } catch (error) {
        if (error instanceof NoSuchEntityException) return undefined;
        throw error;
      }
    });
    if (!userName) throw gone();
    const keys = await this.#call(`list the access keys of IAM user ${userName}`, async () => {
      const all = [];
      let marker: string | undefined;
      do {
        const page = await this.#iam.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker }));
        all.push(...(page.AccessKeyMetadata ?? []));
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
      return all;
    });
    const key = keys.find((candidate) => candidate.AccessKeyId === accessKeyId);
    if (!key) throw gone();
    if (key.Status === 'Active') return undefined;
    // An Inactive key cannot sign in: only the user's ownership tag proves it is this secret's.
    const proven = await this.#call(`read the ownership tags of IAM user ${userName}`, () =>
      isSecretsAccessKey(this.#iam, userName, accessKeyId, secret.arn),
    );
    if (!proven) {
      throw new RollbackRefusedError(
        `cannot roll back secret ${secretName}: the inactive AWSPREVIOUS access key ${hint} of IAM user ${userName} carries no tag rotation-key:${accessKeyId} naming this secret, so it cannot be proven to be this secret's; nothing was reactivated. Rotate again instead, or reactivate it by hand if you know it is this secret's`,
      );
    }
    const setStatus = (status: 'Active' | 'Inactive') =>
      this.#call(`set access key ${hint} of IAM user ${userName} ${status}`, () =>
        this.#iam.send(
          new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status }),
        ),
      );
    await setStatus('Active');
    logger.warn('rollback: the AWSPREVIOUS access key was inactive and has been reactivated', {
      user: userName,
      key: hint,
    });
    return {
      hint,
      restore: async () => {
        await setStatus('Inactive');
        logger.info('rollback: access key deactivated again', { user: userName, key: hint });
      },
    };
  }

  /** Runs an IAM call; a failure is reported by its error name and HTTP status only (IAM's messages quote key ids). */
  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const name = error instanceof Error ? error.name : 'UnknownError';
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      throw new RollbackError(`IAM could not ${what}: ${name}${status ? ` (HTTP ${status})` : ''}`);
    }
  }
}
