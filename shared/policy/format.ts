/** Dates and days as the reasons print them. */

export const iso = (date: Date) => date.toISOString();
export const day = (date: Date) => date.toISOString().slice(0, 10);
/** Days: whole days as integers, fractions to one decimal. */
export const formatDays = (days: number) => (Number.isInteger(days) ? String(days) : days.toFixed(1));
/** The function name in a Lambda ARN (qualifier dropped), or the name itself. */
export const functionName = (arnOrName: string) =>
  /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(arnOrName)?.[1] ?? arnOrName;
