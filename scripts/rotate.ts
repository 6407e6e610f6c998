/**
 * `npm run rotate -- database/primary [--repair | --rollback]`: rotateNow for local runs.
 * Runs the rotateNow handler with the four rotation steps driven through the real
 * rotateDatabase and rotateApiKey handlers in this process, against whatever
 * AWS_ENDPOINT_URL points at (moto cannot invoke a Lambda), and waits for the outcome.
 * Prints identifiers, dates and reasons, never a secret value.
 * Exit status: 0 done, 1 the rotation failed or was refused, 2 bad usage.
 */
import type { Context } from 'aws-lambda';
import type { RotateNowResult } from '../shared/rotate-now/index.js';

const USAGE =
  'usage: npm run rotate -- <secret> [--repair | --rollback]   (e.g. database/primary, api-keys/resend)';
const say = (line: string) => process.stdout.write(`${line}\n`);

function parseArgs(argv: string[]): { secret: string; repair: boolean; rollback: boolean } {
  const flags = new Set(argv.filter((arg) => arg.startsWith('--')));
  const positional = argv.filter((arg) => !arg.startsWith('--'));
  const unknown = [...flags].filter((flag) => flag !== '--repair' && flag !== '--rollback');
  if (positional.length !== 1 || unknown.length > 0) {
    process.stderr.write(`${unknown.length > 0 ? `unknown option ${unknown.join(', ')}\n` : ''}${USAGE}\n`);
    process.exit(2);
  }
  return { secret: positional[0] ?? '', repair: flags.has('--repair'), rollback: flags.has('--rollback') };
}

const context = {
  functionName: 'rotateNow-local',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotateNow-local',
  awsRequestId: 'local',
  getRemainingTimeInMillis: () => 300_000,
} as Context;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const endpoint = process.env.AWS_ENDPOINT_URL;
  say(
    `rotate: running the rotation steps through the real handlers in this process (moto cannot invoke a Lambda), against ${endpoint ? `AWS_ENDPOINT_URL=${endpoint}` : 'AWS itself (AWS_ENDPOINT_URL is unset; on AWS prefer `serverless invoke -f rotateNow`)'}`,
  );
  // Local defaults, read by the handlers at their cold start below: steps in process, no
  // settle time (no Secrets Manager runs them here), any stuck rotation may be repaired, quiet logs.
  const defaults = {
    ROTATION_STEP_RUNNER: 'in-process',
    ROTATE_NOW_SETTLE_SECONDS: '0',
    REPAIR_MIN_AGE_SECONDS: '0',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const [name, value] of Object.entries(defaults)) process.env[name] ??= value;
  const { handler } = await import('../functions/rotate-now/handler.js');
  const request = {
    secret: args.secret,
    ...(args.rollback ? { rollback: true } : { wait: true, repair: args.repair }),
  };
  const result: RotateNowResult = await handler(request, context);
  if (result.action === 'rollback') {
    say(`rolled back ${result.secret}: version ${result.versionId} is AWSCURRENT again (${result.proof})`);
  } else if (result.status === 'succeeded') {
    say(
      `rotated ${result.secret}: version ${result.versionId} is AWSCURRENT, rotated_at ${result.rotated_at ?? '(none)'}`,
    );
  } else {
    const { failure, reason } = result;
    say(
      `rotation of ${result.secret} ${result.status}${failure ? `: ${failure.step}: ${failure.errorType}: ${failure.message}` : reason ? `: ${reason}` : ''}`,
    );
    process.exitCode = 1;
  }
  say(JSON.stringify(result));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
  process.exit(1);
});
