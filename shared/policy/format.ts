/** Dates and days as the reasons print them. */

export const iso = (date: Date) => date.toISOString();
export const day = (date: Date) => date.toISOString().slice(0, 10);
/** Days: whole days as integers, fractions to one decimal. */
export const formatDays = (days: number) => (Number.isInteger(days) ? String(days) : days.toFixed(1));
/** The function name in a Lambda ARN (qualifier dropped), or the name itself. */
export const functionName = (arnOrName: string) =>
  /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(arnOrName)?.[1] ?? arnOrName;

const FUNCTION_ARN = /^(arn:[^:]+:lambda:[^:]+:[^:]+:function:[^:]+)(:[^:]+)?$/;
const SECRET_ARN = /^arn:([^:]+):secretsmanager:([^:]+):([^:]+):secret:/;

/** A function's ARN without its qualifier; a name is taken as the function beside the secret `secretArn`. */
function unqualifiedFunctionArn(nameOrArn: string, secretArn: string): string | undefined {
  if (nameOrArn.startsWith('arn:')) return FUNCTION_ARN.exec(nameOrArn)?.[1];
  const secret = SECRET_ARN.exec(secretArn);
  return secret && /^[\w-]+$/.test(nameOrArn)
    ? `arn:${secret[1]}:lambda:${secret[2]}:${secret[3]}:function:${nameOrArn}`
    : undefined;
}

/**
 * True when `a` and `b` (ARNs, or names of functions beside the secret `secretArn`) are one
 * Lambda function: the same partition, region, account and name; a qualifier (a version or an
 * alias) is the same function. A name alone proves nothing: another account may use it too.
 */
export function sameFunction(a: string, b: string, secretArn: string): boolean {
  const left = unqualifiedFunctionArn(a, secretArn);
  return left !== undefined && left === unqualifiedFunctionArn(b, secretArn);
}

/** How reasons name a function: its name, or its ARN when `other` has the same name (another account's or region's). */
export const describeFunction = (arnOrName: string, other: string) =>
  functionName(arnOrName) === functionName(other)
    ? (FUNCTION_ARN.exec(arnOrName)?.[1] ?? arnOrName)
    : functionName(arnOrName);
