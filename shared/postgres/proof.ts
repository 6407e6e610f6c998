import { Stage } from '../rotation/constants.js';
import type { RotationLogger, SecretVersion, VersionReader } from '../rotation/strategy.js';
import {
  describeTarget,
  type PostgresConnector,
  type PostgresSession,
  type PostgresTarget,
} from './connection.js';
import { DatabaseAuthenticationError } from './errors.js';
import type { PostgresSecret } from './secret.js';
import { targetOf } from './target.js';

/**
 * Logs in to `target` with `password`: the open session, or undefined when the server refuses
 * the credentials (logged with the stage they came from). Any other failure is thrown.
 */
export async function tryLogin(
  connector: PostgresConnector,
  target: PostgresTarget,
  password: string,
  stage: string,
  logger: RotationLogger,
): Promise<PostgresSession | undefined> {
  try {
    return await connector.connect(target, password);
  } catch (error) {
    if (!(error instanceof DatabaseAuthenticationError)) throw error;
    logger.warn('login refused', { stage, target: describeTarget(target) });
    return undefined;
  }
}

/**
 * True when `password` logs in to `target` (the session is closed at once); false when the
 * server refuses it. Any other failure is thrown. Logs nothing: a refusal may be expected.
 */
export async function logsIn(
  connector: PostgresConnector,
  target: PostgresTarget,
  password: string,
): Promise<boolean> {
  try {
    await (await connector.connect(target, password)).close();
    return true;
  } catch (error) {
    if (error instanceof DatabaseAuthenticationError) return false;
    throw error;
  }
}

/** Where and how a version connects, but for its user. */
const sameConnection = (a: PostgresSecret, b: PostgresSecret) =>
  a.host === b.host && a.port === b.port && a.database === b.database && a.sslmode === b.sslmode;

/**
 * The logins a secret's own versions hold, tried on demand and once each: the proof a
 * rotation asks for before a master or the RDS API acts for the secret. A secret that names
 * a role and a master (or an RDS database) is not, on its own, proof that its writer holds
 * that role: AWSCURRENT's password (or AWSPREVIOUS's) must log in as its user first, as AWS's
 * templates check ("confused deputy").
 *
 * AWSPREVIOUS is tried only when AWSCURRENT's login does not settle the question, when it
 * connects the same way as AWSCURRENT (host, port, database, sslmode: its password is sent
 * nowhere else) and when `accepts` its user. A failed read of AWSPREVIOUS fails the step.
 */
export class HeldLogins {
  readonly #connector: PostgresConnector;
  readonly #current: SecretVersion<PostgresSecret>;
  readonly #readStage: VersionReader<PostgresSecret>;
  readonly #logger: RotationLogger;
  readonly #accepts: (username: string) => boolean;
  #currentWorks: Promise<boolean> | undefined;
  #previous: Promise<PostgresSecret | undefined> | undefined;
  #previousWorks: Promise<boolean> | undefined;

  constructor(options: {
    connector: PostgresConnector;
    current: SecretVersion<PostgresSecret>;
    readStage: VersionReader<PostgresSecret>;
    logger: RotationLogger;
    /** The users an AWSPREVIOUS login may prove (the secret's own user, or either login of a pair). */
    accepts: (username: string) => boolean;
  }) {
    this.#connector = options.connector;
    this.#current = options.current;
    this.#readStage = options.readStage;
    this.#logger = options.logger;
    this.#accepts = options.accepts;
  }

  /** The stage whose password logs in as its user (AWSCURRENT, else AWSPREVIOUS); undefined when neither does. */
  async proven(): Promise<string | undefined> {
    if (await this.#currentLogsIn()) return Stage.CURRENT;
    if (await this.#previousLogsIn()) return Stage.PREVIOUS;
    return undefined;
  }

  /** True when AWSCURRENT's or AWSPREVIOUS's password logs in as `username` (its password is one this secret holds). */
  async logsInAs(username: string): Promise<boolean> {
    if (this.#current.value.username === username && (await this.#currentLogsIn())) return true;
    const previous = await this.#usablePrevious();
    return previous?.username === username && (await this.#previousLogsIn());
  }

  #currentLogsIn(): Promise<boolean> {
    this.#currentWorks ??= this.#attempt(this.#current.value, Stage.CURRENT);
    return this.#currentWorks;
  }

  /** One login with a version's credentials; a refusal is logged (a proof that failed). */
  async #attempt(version: PostgresSecret, stage: string): Promise<boolean> {
    const target = targetOf(version);
    const works = await logsIn(this.#connector, target, version.password);
    if (!works) this.#logger.warn('login refused', { stage, target: describeTarget(target) });
    return works;
  }

  #usablePrevious(): Promise<PostgresSecret | undefined> {
    const current = this.#current.value;
    this.#previous ??= this.#readStage(Stage.PREVIOUS).then((previous) =>
      previous &&
      this.#accepts(previous.value.username) &&
      sameConnection(previous.value, current) &&
      !(previous.value.username === current.username && previous.value.password === current.password)
        ? previous.value
        : undefined,
    );
    return this.#previous;
  }

  async #previousLogsIn(): Promise<boolean> {
    const previous = await this.#usablePrevious();
    if (!previous) return false;
    this.#previousWorks ??= this.#attempt(previous, Stage.PREVIOUS);
    return this.#previousWorks;
  }
}
