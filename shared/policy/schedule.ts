/**
 * Secrets Manager rotation schedules, as its API reference defines them: `AutomaticallyAfterDays`,
 * or a `ScheduleExpression` (`rate(N hours|days)`, or `cron(0 H DoM Mon DoW *)` in UTC) with an
 * optional `Duration` (`Nh`, the rotation window). Used to check a schedule's interval against
 * the policy and whether a moment falls inside a secret's rotation window.
 */
import { DAY_MS, HOUR_MS } from './constants.js';
import { InvalidScheduleError } from './errors.js';

/** Rotation rules in Secrets Manager's terms (`RotationRulesType`). */
export interface RotationRules {
  readonly automaticallyAfterDays?: number;
  readonly scheduleExpression?: string;
  readonly duration?: string;
}

interface RateSchedule {
  readonly kind: 'rate';
  readonly hours: number;
}

interface CronSchedule {
  readonly kind: 'cron';
  readonly hours: readonly number[];
  readonly matchesDay: (day: Date) => boolean;
}

type Schedule = RateSchedule | CronSchedule;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const fail = (expression: string, why: string) =>
  new InvalidScheduleError(`schedule expression ${JSON.stringify(expression)} is not valid: ${why}`);

/** Parses one value of a field: a number or a name (JAN, SUN), within [min, max]. */
function value(token: string, min: number, max: number, names: readonly string[] = []): number | undefined {
  const named = names.indexOf(token.toUpperCase());
  const n = named >= 0 ? named + min : /^\d+$/.test(token) ? Number(token) : Number.NaN;
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

/** Expands `*`, `n`, `a-b`, `*\/s`, `a/s`, `a-b/s` and comma lists into the set of values. */
function expand(
  field: string,
  min: number,
  max: number,
  names: readonly string[] = [],
): Set<number> | undefined {
  const out = new Set<number>();
  for (const item of field.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : value(stepText, 1, max);
    if (step === undefined) return undefined;
    let from: number | undefined;
    let to: number | undefined;
    if (range === '*') [from, to] = [min, max];
    else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [from, to] = [value(a, min, max, names), value(b, min, max, names)];
    } else {
      from = value(range, min, max, names);
      to = stepText === undefined ? from : max;
    }
    if (from === undefined || to === undefined || from > to) return undefined;
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
}

const daysInMonth = (day: Date) =>
  new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 0)).getUTCDate();

function dayOfMonthMatcher(field: string): ((day: Date) => boolean) | undefined {
  if (field === '*') return () => true;
  if (field === 'L') return (day) => day.getUTCDate() === daysInMonth(day);
  const days = expand(field, 1, 31);
  return days && ((day) => days.has(day.getUTCDate()));
}

function dayOfWeekMatcher(field: string): ((day: Date) => boolean) | undefined {
  const weekday = (day: Date) => day.getUTCDay() + 1; // 1 = SUN … 7 = SAT, as Secrets Manager counts
  if (field === '*') return () => true;
  if (field === 'L') return (day) => weekday(day) === 7;
  const nth = /^(\w+)#([1-5])$/.exec(field);
  if (nth) {
    const target = value(nth[1] ?? '', 1, 7, WEEKDAYS);
    const n = Number(nth[2]);
    return target === undefined
      ? undefined
      : (day) => weekday(day) === target && Math.ceil(day.getUTCDate() / 7) === n;
  }
  const last = /^(\w+)L$/.exec(field);
  if (last) {
    const target = value(last[1] ?? '', 1, 7, WEEKDAYS);
    return target === undefined
      ? undefined
      : (day) => weekday(day) === target && day.getUTCDate() + 7 > daysInMonth(day);
  }
  const days = expand(field, 1, 7, WEEKDAYS);
  return days && ((day) => days.has(weekday(day)));
}

function parseCron(expression: string, body: string): CronSchedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw fail(expression, 'a cron expression has six fields');
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (minutes !== '0') throw fail(expression, 'the minutes field must be 0 (windows open on the hour)');
  if (year !== '*') throw fail(expression, 'the year field must be *');
  if ((dayOfMonth === '?') === (dayOfWeek === '?'))
    throw fail(expression, 'exactly one of day-of-month and day-of-week must be ?');
  const hourSet = expand(hours, 0, 23);
  const months = expand(month, 1, 12, MONTHS);
  const dayMatcher = dayOfMonth === '?' ? dayOfWeekMatcher(dayOfWeek) : dayOfMonthMatcher(dayOfMonth);
  if (!hourSet) throw fail(expression, `hours field ${hours} is not valid`);
  if (!months) throw fail(expression, `month field ${month} is not valid`);
  if (!dayMatcher) throw fail(expression, 'day field is not valid');
  return {
    kind: 'cron',
    hours: [...hourSet].sort((a, b) => a - b),
    matchesDay: (day) => months.has(day.getUTCMonth() + 1) && dayMatcher(day),
  };
}

const parsed = new Map<string, Schedule>();

/**
 * Parses a `ScheduleExpression`. Results are memoized (a fleet shares few schedules).
 * @throws {InvalidScheduleError} saying what is wrong.
 */
function parseSchedule(expression: string): Schedule {
  const known = parsed.get(expression);
  if (known) return known;
  let schedule: Schedule;
  const rate = /^rate\((\d+) (hours?|days?)\)$/.exec(expression.trim());
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const hours = rate[2]?.startsWith('hour') ? n : n * 24;
    if (hours < 4 || hours > 999 * 24) throw fail(expression, 'a rate must be from 4 hours to 999 days');
    schedule = { kind: 'rate', hours };
  } else if (cron) {
    schedule = parseCron(expression, cron[1] ?? '');
  } else {
    throw fail(expression, 'expected rate(N hours|days) or cron(…)');
  }
  parsed.set(expression, schedule);
  return schedule;
}

/** Parses a `Duration` (`1h` to `24h`) into hours. @throws {InvalidScheduleError} */
export function parseDuration(duration: string): number {
  const match = /^(\d{1,2})h$/.exec(duration.trim());
  const hours = Number(match?.[1]);
  if (!match || hours < 1 || hours > 24)
    throw new InvalidScheduleError(`duration ${JSON.stringify(duration)} is not valid: expected 1h to 24h`);
  return hours;
}

/**
 * Checks rotation rules as Secrets Manager would accept them.
 * @throws {InvalidScheduleError} saying what is wrong.
 */
export function validateRotationRules(rules: RotationRules): void {
  if (rules.scheduleExpression === undefined) {
    if (rules.duration !== undefined) throw new InvalidScheduleError('a Duration needs a ScheduleExpression');
    return;
  }
  parseSchedule(rules.scheduleExpression);
  if (rules.duration !== undefined) parseDuration(rules.duration);
}

const dayStart = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
const CRON_HORIZON_DAYS = 5 * 366;
const intervals = new Map<string, number>();

/**
 * The longest time between two rotations under these rules, in days (fractional for rates
 * in hours), or undefined when the rules set no schedule. A cron schedule is measured over
 * five years of days, since it may skip months (`cron(0 2 1 1/4 ? *)`: every four months).
 * @throws {InvalidScheduleError} for an expression Secrets Manager would refuse.
 */
export function scheduleIntervalDays(rules: RotationRules): number | undefined {
  const expression = rules.scheduleExpression;
  if (expression === undefined) return rules.automaticallyAfterDays || undefined;
  const known = intervals.get(expression);
  if (known !== undefined) return known;
  const schedule = parseSchedule(expression);
  let interval: number;
  if (schedule.kind === 'rate') interval = schedule.hours / 24;
  else {
    let previous: number | undefined;
    interval = 0;
    const start = Date.UTC(2024, 0, 1);
    for (let d = 0; d < CRON_HORIZON_DAYS; d++) {
      const day = new Date(start + d * DAY_MS);
      if (!schedule.matchesDay(day)) continue;
      if (previous !== undefined) interval = Math.max(interval, d - previous);
      previous = d;
    }
    if (previous === undefined || interval === 0) throw fail(expression, 'it matches too few days');
    const hours = schedule.hours;
    if (interval === 1 && hours.length > 1) {
      // Several starts a day, every day: the longest gap between starts, across midnight too.
      let gap = 24 - (hours.at(-1) ?? 0) + (hours[0] ?? 0);
      for (let i = 1; i < hours.length; i++) gap = Math.max(gap, (hours[i] ?? 0) - (hours[i - 1] ?? 0));
      interval = gap / 24;
    }
  }
  intervals.set(expression, interval);
  return interval;
}

/**
 * True when `now` falls inside the rotation window the rules define: always for rules
 * without a `ScheduleExpression` (no window); for a rate in days, from midnight UTC for
 * `Duration` hours (default: all day); for a rate in hours, from each start
 * (midnight, then every N hours) for `Duration` (default 1 h); for a cron, on a matching day
 * from each start hour for `Duration` (default: 1 h for several starts a day, else the rest
 * of the day). Windows never cross midnight UTC, as Secrets Manager requires.
 * @throws {InvalidScheduleError} for rules Secrets Manager would refuse.
 */
export function isInsideRotationWindow(rules: RotationRules, now: Date): boolean {
  if (rules.scheduleExpression === undefined) return true;
  const schedule = parseSchedule(rules.scheduleExpression);
  const duration = rules.duration === undefined ? undefined : parseDuration(rules.duration);
  const hourOfDay = (now.getTime() - dayStart(now.getTime())) / HOUR_MS;
  const inside = (start: number, defaultHours: number) =>
    hourOfDay >= start && hourOfDay < Math.min(24, start + (duration ?? defaultHours));
  if (schedule.kind === 'rate') {
    if (schedule.hours >= 24) return inside(0, 24);
    const starts = Array.from({ length: Math.ceil(24 / schedule.hours) }, (_, i) => i * schedule.hours);
    return starts.some((start) => inside(start, 1));
  }
  if (!schedule.matchesDay(new Date(dayStart(now.getTime())))) return false;
  return schedule.hours.some((start) => inside(start, schedule.hours.length > 1 ? 1 : 24 - start));
}

/** Reads the `rotation-window` tag: `<ScheduleExpression>[ <Duration>]`. @throws {InvalidScheduleError} */
export function parseWindowTag(value: string): RotationRules {
  const match = /^(.*\))\s*(\d{1,2}h)?$/.exec(value.trim());
  if (!match)
    throw new InvalidScheduleError(
      `expected "<rate(…) or cron(…)> [<1h–24h>]", got ${JSON.stringify(value)}`,
    );
  const rules: RotationRules = {
    scheduleExpression: match[1] ?? '',
    ...(match[2] ? { duration: match[2] } : {}),
  };
  validateRotationRules(rules);
  return rules;
}

/** Rotation rules as one line: `AutomaticallyAfterDays=75`, `cron(0 2 ? * SAT#1 *) 3h`. */
export function describeRotationRules(rules: RotationRules | undefined): string {
  if (!rules) return '';
  if (rules.scheduleExpression !== undefined)
    return rules.duration ? `${rules.scheduleExpression} ${rules.duration}` : rules.scheduleExpression;
  return rules.automaticallyAfterDays ? `AutomaticallyAfterDays=${rules.automaticallyAfterDays}` : '';
}
