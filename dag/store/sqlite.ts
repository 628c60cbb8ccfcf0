import path from "node:path";
import sqlite3 from "sqlite3";

/** A value SQLite can bind to a `?` placeholder. */
export type SqlValue = string | number | bigint | null;

/**
 * A promise-based SQLite connection. Statements run one at a time in call order
 * (`serialize` mode), and `transaction` keeps the connection for its whole body so
 * that statements of concurrent callers never land inside another caller's BEGIN.
 */
export class SqliteConnection {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: sqlite3.Database,
    readonly file: string,
  ) {}

  /** Opens (creating if needed) the database file; other processes wait up to `busyTimeoutMs` for its locks. */
  static open(file: string, busyTimeoutMs = 30_000): Promise<SqliteConnection> {
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, (error) => {
        if (error) {
          reject(new Error(`cannot open the index database ${file}: ${error.message}`));
          return;
        }
        db.configure("busyTimeout", busyTimeoutMs);
        db.serialize();
        resolve(new SqliteConnection(db, file));
      });
    });
  }

  /** Runs SQL text with no parameters (may hold several statements). */
  exec(sql: string): Promise<void> {
    return this.exclusive(() => this.rawExec(sql));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<{ lastID: number; changes: number }> {
    return this.exclusive(() => this.rawRun(sql, params));
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.db.all(sql, params as SqlValue[], (error: Error | null, rows: T[]) => (error ? reject(this.wrap(error, sql)) : resolve(rows)));
    });
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.db.get(sql, params as SqlValue[], (error: Error | null, row: T | undefined) => (error ? reject(this.wrap(error, sql)) : resolve(row)));
    });
  }

  /**
   * Runs `body` inside BEGIN IMMEDIATE … COMMIT (ROLLBACK when it throws). `body` gets a
   * `run` that bypasses the queue, because the transaction already owns it.
   */
  transaction<T>(body: (run: (sql: string, params?: readonly SqlValue[]) => Promise<unknown>) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.rawExec("BEGIN IMMEDIATE");
      try {
        const result = await body((sql, params = []) => this.rawRun(sql, params));
        await this.rawExec("COMMIT");
        return result;
      } catch (error) {
        await this.rawExec("ROLLBACK").catch(() => undefined);
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return this.exclusive(
      () =>
        new Promise<void>((resolve, reject) => {
          this.db.close((error) => (error ? reject(this.wrap(error, "close")) : resolve()));
        }),
    );
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private rawExec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.exec(sql, (error) => (error ? reject(this.wrap(error, sql)) : resolve()));
    });
  }

  private rawRun(sql: string, params: readonly SqlValue[]): Promise<{ lastID: number; changes: number }> {
    const wrap = (error: Error) => this.wrap(error, sql);
    return new Promise((resolve, reject) => {
      this.db.run(sql, params as SqlValue[], function (this: sqlite3.RunResult, error: Error | null) {
        if (error) reject(wrap(error));
        else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  private wrap(error: Error, sql: string): Error {
    const statement = sql.replace(/\s+/g, " ").trim().slice(0, 80);
    const damaged = /SQLITE_(CORRUPT|NOTADB)/.test(error.message)
      ? `; the file is damaged: run \`fancl index rebuild --store ${path.dirname(this.file)}\` to move it aside and rebuild it from the manifests`
      : "";
    return new Error(`index database ${this.file}: ${error.message} (in: ${statement})${damaged}`);
  }
}
