import pg from 'pg';
import type { Logger } from 'pino';
import { StoreError } from '../../errors.js';

/** A connection or the pool: what a repository runs its statements on. */
export type Db = pg.ClientBase | pg.Pool;

/** A statement prepared once per connection under its name (the decision path's, run thousands of times a second). */
export interface Statement {
  name: string;
  text: string;
}

export const statement = (name: string, text: string): Statement => ({ name, text });

/** An error of pg or the server as this store raises it: a StoreError (so every transport answers guard_error) with pg's as its cause. */
export function pgError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const { code, message } = describeError(err);
  return new StoreError(`${code ? `${code} ` : ''}${message}`, { cause: err });
}

async function query<R extends pg.QueryResultRow>(db: Db, s: Statement | string, values: unknown[]): Promise<pg.QueryResult<R>> {
  try {
    return await db.query<R>(typeof s === 'string' ? { text: s, values } : { name: s.name, text: s.text, values });
  } catch (err) {
    throw pgError(err);
  }
}

/** Runs one statement (prepared under its name when it is a Statement) and gives its rows; rejects with a StoreError. */
export async function run<R extends pg.QueryResultRow>(db: Db, s: Statement | string, values: unknown[] = []): Promise<R[]> {
  return (await query<R>(db, s, values)).rows;
}

/** Runs one statement and gives the number of rows it changed. */
export async function changes(db: Db, s: Statement | string, values: unknown[] = []): Promise<number> {
  return (await query(db, s, values)).rowCount ?? 0;
}

const INT8_OID = 20;

/** BIGINT comes as text (it may not fit a double); every one here is money, a count or a time, all far below 2^53. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new StoreError(`integer ${text} from PostgreSQL is beyond JavaScript's safe range`);
  return n;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export interface PoolOptions {
  url: string;
  /** How long a transaction waits for a connection, the pool's or a new one. */
  connectTimeoutMs: number;
  /** Connections at most (default 10). */
  size?: number;
  logger?: Logger;
}

/** Admin statements (an import, an audit page over millions of rows) may take longer than a decision, not forever. */
const ADMIN_STATEMENT_TIMEOUT_MS = 30_000;
/**
 * A guard that stops talking in the middle of a transaction (its host froze, the network broke)
 * must not hold the locks of an extension or of the breaker for long: the server ends it.
 */
const IDLE_IN_TRANSACTION_MS = 5_000;
/** A ROLLBACK that does not come back at once means the connection is not worth keeping. */
const ROLLBACK_TIMEOUT_MS = 1_000;

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.size ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs,
    // Connections are kept: opening one (TCP, SCRAM) on a busy machine can take longer than a decision may wait.
    idleTimeoutMillis: 0,
    // Detects a server that went away while a connection sat idle.
    keepAlive: true,
    statement_timeout: ADMIN_STATEMENT_TIMEOUT_MS,
    lock_timeout: ADMIN_STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    // A server that stops answering (frozen, cut off) must not hold a connection forever.
    query_timeout: ADMIN_STATEMENT_TIMEOUT_MS + 5_000,
    application_name: 'dialguard',
    // Statements sent without waiting for the previous answer travel together (see Defer).
    pipeline: true,
    types,
  });
  // An idle connection that the server closed (a restart, a failover) is dropped from the pool,
  // which opens a new one on next use; without a listener the error would end the process.
  pool.on('error', (err) => options.logger?.warn({ err: describeError(err) }, 'PostgreSQL connection lost; it is replaced on next use'));
  return pool;
}

/** What may be logged of an error from pg: its code and message, which never carry the password. */
export function describeError(err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return { ...(typeof e.code === 'string' ? { code: e.code } : {}), message: typeof e.message === 'string' ? e.message : String(err) };
}

/** The role methods' context on an error: "listing decisions failed: 57P01 terminating connection…". */
export function withContext(what: string, err: unknown): unknown {
  return err instanceof StoreError ? new StoreError(`${what} failed: ${err.message}`, { cause: err.cause ?? err }) : err;
}

/** A server-reported SQL error leaves the session usable (after ROLLBACK); anything else from pg (a lost connection, a timeout) does not. */
const sessionUsable = (err: unknown): boolean =>
  !(err instanceof StoreError) || typeof (err.cause as { severity?: unknown } | undefined)?.severity === 'string';

export interface TransactionOptions {
  /**
   * Statements sent with BEGIN in one round trip (no parameters): the decision path's timeouts
   * and extension locks.
   */
  prelude?: string;
  readOnly?: boolean;
}

/**
 * Registers a statement sent and not awaited: the transaction (or savepoint) counts as done only
 * if every one of them succeeded. The connection pipelines (pg's `pipeline`): statements sent
 * without waiting reach the server together, and a decision's writes and its COMMIT cost one
 * round trip. One the server refuses aborts the transaction, and the COMMIT that follows rolls
 * it back; one that failed on this side (a value out of range) stops the COMMIT from being sent.
 */export type Defer = (statement: Promise<unknown>) => void;

/** Statements deferred in one transaction or savepoint, and the end of it: `end` sends what closes it once none has failed. */
export function deferred(): { defer: Defer; end: (close: () => Promise<unknown>) => Promise<void> } {
  const pending: Promise<unknown>[] = [];
  let failed: { error: unknown } | null = null;
  return {
    defer(statement) {
      statement.catch((error: unknown) => {
        failed ??= { error };
      });
      pending.push(statement);
    },
    async end(close) {
      // What failed on this side has failed by the next turn of the event loop (pg reports a
      // statement it could not send on the next tick): then the COMMIT or RELEASE is not sent.
      await new Promise((resolve) => setImmediate(resolve));
      if (failed) throw failed.error;
      await Promise.all([...pending, close()]);
    },
  };
}

/**
 * One interactive transaction on one connection from the pool, released in every case; a
 * connection that broke (timed out, lost) is destroyed rather than returned. `fn` may await
 * statements on the client, or send them and `defer` them; whatever fails rolls the
 * transaction back and is rethrown.
 */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient, defer: Defer) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw pgError(err);
  }
  // While checked out the pool does not listen: a connection lost between statements would
  // otherwise be an unhandled 'error' event. The statement in flight rejects on its own.
  let lost: Error | null = null;
  const onError = (err: Error): void => {
    lost = err;
  };
  client.on('error', onError);
  const { defer, end } = deferred();
  let destroy: Error | null = null;
  // BEGIN goes out with fn's first statement. If it fails (a lock wait timed out), the server
  // refuses what follows as "current transaction is aborted": BEGIN's error is the one to report.
  const begin = options.readOnly ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN';
  const begun = run(client, options.prelude ? `${begin}; ${options.prelude}` : begin);
  defer(begun);
  try {
    let result: T;
    try {
      result = await fn(client, defer);
    } catch (err) {
      await begun;
      throw err;
    }
    // COMMIT of a transaction that failed answers ROLLBACK without an error: what was deferred decides.
    await end(() => run(client, 'COMMIT'));
    return result;
  } catch (err) {
    if (lost || !sessionUsable(err)) {
      destroy = lost ?? (err as Error);
    } else {
      try {
        await client.query({ text: 'ROLLBACK', query_timeout: ROLLBACK_TIMEOUT_MS } as pg.QueryConfig);
      } catch (rollbackError) {
        destroy = rollbackError as Error;
      }
    }
    throw err;
  } finally {
    client.removeListener('error', onError);
    // A connection that broke is destroyed rather than handed to the next transaction.
    client.release(destroy ?? undefined);
  }
}
