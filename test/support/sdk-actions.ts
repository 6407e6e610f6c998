/**
 * What a function's code can ask of AWS, read from its bundle as the deployment builds it.
 *
 * Method: the handler is bundled with esbuild and the deployment's own options (from the
 * packaged service), with a metafile. The AWS SDK v3 keeps one module per command
 * (`@aws-sdk/client-iam/dist-es/commands/CreateAccessKeyCommand.js`) and is free of side
 * effects, so after tree-shaking a command's module is in the bundle exactly when the code
 * (this project's or a library's, such as Powertools' SecretsProvider) constructs that command.
 * Each is mapped to the IAM action it needs.
 *
 * Limits, stated where they are handled:
 * - A command in the bundle may sit on a path the deployed function never takes (a method of
 *   a shared class it does not call, a local-only branch). The caller lists those with a reason.
 * - Dynamic imports that only a local run takes are left out (`localOnlyImporters`).
 * - What AWS requires besides the API's own action (KMS behind Secrets Manager, iam:PassRole
 *   for a scheduler target, Lambda's own logs and network) is not in any bundle: the caller adds it.
 * - A client built from the low-level `Client.send` with a hand-made command, or the
 *   aggregated clients (`new IAM()`), would escape this reading; the code uses neither.
 */
import { isAbsolute, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';

/** One SDK command a bundle holds: `secrets-manager` / `GetSecretValue`. */
export interface SdkCommand {
  readonly client: string;
  readonly command: string;
}

/** A bundle as the deployment builds it. */
export interface Bundle {
  /** The SDK commands in it. */
  readonly commands: readonly SdkCommand[];
  /** This project's source files in it (relative to the root). */
  readonly sources: readonly string[];
}

/** The esbuild settings of `custom.esbuild` in serverless.yml that shape the bundle. */
export interface BundleOptions {
  readonly target?: string;
  readonly platform?: 'node';
  readonly format?: 'cjs' | 'esm';
  readonly mainFields?: string[];
  readonly external?: string[];
  readonly minify?: boolean;
  readonly keepNames?: boolean;
}

const COMMAND_MODULE = /@aws-sdk\/client-([a-z0-9-]+)\/dist-(?:es|cjs)\/commands\/(\w+)Command\.js$/;

/**
 * Bundles `entry` (relative to `root`) with `options`; `localOnlyImporters` name the modules
 * whose dynamic imports a deployed function never runs (they stay out of the bundle).
 */
export async function bundleOf(
  root: string,
  entry: string,
  options: BundleOptions,
  localOnlyImporters: readonly string[] = [],
): Promise<Bundle> {
  const localOnly: Plugin = {
    name: 'local-only-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) =>
        args.kind === 'dynamic-import' &&
        localOnlyImporters.some((importer) => relative(root, args.importer) === importer)
          ? { path: args.path, external: true }
          : undefined,
      );
    },
  };
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    outfile: 'bundle.cjs',
    logLevel: 'silent',
    platform: options.platform ?? 'node',
    ...(options.target ? { target: options.target } : {}),
    ...(options.format ? { format: options.format } : {}),
    ...(options.mainFields ? { mainFields: options.mainFields } : {}),
    ...(options.external ? { external: options.external } : {}),
    minify: options.minify ?? false,
    keepNames: options.keepNames ?? false,
    plugins: [localOnly],
  });
  const output = Object.values(result.metafile.outputs).find((out) => out.entryPoint !== undefined);
  if (!output) throw new Error(`esbuild produced no bundle for ${entry}`);
  const commands: SdkCommand[] = [];
  const sources: string[] = [];
  for (const [path, input] of Object.entries(output.inputs)) {
    if (input.bytesInOutput === 0) continue;
    const match = COMMAND_MODULE.exec(path);
    if (match?.[1] && match[2]) commands.push({ client: match[1], command: match[2] });
    else if (!path.includes('node_modules/') && !isAbsolute(path)) sources.push(path);
  }
  return { commands, sources };
}

/** The IAM service prefix of each SDK client whose package name differs from it. */
const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  'secrets-manager': 'secretsmanager',
  eventbridge: 'events',
  'cloudwatch-logs': 'logs',
};

/** SDK commands whose IAM action is not `<prefix>:<command>`; `null`: the call needs no permission. */
const ACTION_OF: Readonly<Record<string, string | null>> = {
  'lambda:Invoke': 'lambda:InvokeFunction',
  // S3 Express One Zone's session, which the S3 client opens only for directory buckets.
  's3:CreateSession': 's3express:CreateSession',
  's3:ListObjectsV2': 's3:ListBucket',
  's3:HeadObject': 's3:GetObject',
  // SQS's batch calls are authorized as the single calls (SQS has no *Batch IAM actions).
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
  // STS answers GetCallerIdentity to any signed request: no policy can deny it.
  'sts:GetCallerIdentity': null,
};

/** The IAM action `command` needs, or null when it needs none. */
export function actionOf(command: SdkCommand): string | null {
  const action = `${SERVICE_PREFIX[command.client] ?? command.client}:${command.command}`;
  return action in ACTION_OF ? (ACTION_OF[action] ?? null) : action;
}
