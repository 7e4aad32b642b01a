/** The readiness probe's view of the database. */
export interface HealthStore {
  /** Rejects unless the database takes a write now (reachable, not read-only, not locked past the busy timeout). */
  checkWritable(): Promise<void>;
}
