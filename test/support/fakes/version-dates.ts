/**
 * moto answers ListSecretVersionIds with the time of the call as every version's CreatedDate;
 * AWS answers when the version was created. The `aws` provider proves a key is an orphan of
 * this rotation by comparing IAM's creation date of the key with the creation date of the
 * rotation's version, so tests of that proof need AWS's answer. This middleware gives a
 * moto-backed client exactly that: a version's creation date is at most the first moment any
 * client of this process saw the version (DescribeSecret, ListSecretVersionIds, or the answer
 * to the RotateSecret or PutSecretValue that made it), to the second, as Secrets Manager
 * stamps it; ListSecretVersionIds then answers that date. Everything else goes to moto as is.
 */
import type {
  DescribeSecretCommandOutput,
  ListSecretVersionIdsCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/** Version id → the earliest moment a client saw it (version ids are UUIDs, unique across secrets). */
const firstSeen = new Map<string, Date>();

function see(versionId: string | undefined, at: Date): void {
  if (!versionId) return;
  const known = firstSeen.get(versionId);
  if (!known || at < known) firstSeen.set(versionId, at);
}

/** Makes `client`'s ListSecretVersionIds answer each version's creation date, as AWS does. */
export function withAwsVersionDates<C extends SecretsManagerClient>(client: C): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      // The second the request left: the version existed by then if the answer names it.
      const sent = new Date(Math.floor(Date.now() / 1000) * 1000);
      const result = await next(args);
      // Each command's own output type: the stack's type is the union of every command's.
      const output = result.output as Partial<
        DescribeSecretCommandOutput & ListSecretVersionIdsCommandOutput & { VersionId: string }
      >;
      switch (context.commandName) {
        case 'DescribeSecretCommand':
          for (const id of Object.keys(output.VersionIdsToStages ?? {})) see(id, sent);
          break;
        case 'RotateSecretCommand':
        case 'PutSecretValueCommand':
          see(output.VersionId, sent);
          break;
        case 'ListSecretVersionIdsCommand':
          for (const version of output.Versions ?? []) {
            see(version.VersionId, version.CreatedDate ?? sent);
            version.CreatedDate = firstSeen.get(version.VersionId ?? '') ?? version.CreatedDate;
          }
          break;
      }
      return result;
    },
    { step: 'initialize', name: 'awsVersionDates' },
  );
  return client;
}
