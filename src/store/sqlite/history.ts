import type { Database, Statement } from 'better-sqlite3';
import type { ExtensionLock } from '../roles/locks.js';
import type { HistoryPage, PolicyChange } from '../roles/policies.js';

interface ChangeRow {
  id: number;
  at: number;
  actor: string;
  subject: string;
  before: string | null;
  after: string | null;
  version: number;
}

const parse = (json: string | null): unknown => (json === null ? null : JSON.parse(json));

/** Reads of the policy change log and of the locks, for the admin API. */
export function createPolicyHistory(db: Database) {
  const s = {
    lastVersion: db.prepare<[string], number>(`SELECT version FROM policy_changes WHERE subject = ? ORDER BY id DESC LIMIT 1`).pluck(),
    locks: db.prepare<[], ExtensionLock>(`SELECT ext, reason, actor, at FROM locks ORDER BY ext`),
  };
  const pages = new Map<number, Statement<unknown[], ChangeRow>>();

  /** One statement per number of subjects: an extension's history is two subjects, a setting's one. */
  const pageStatement = (subjects: number) => {
    let statement = pages.get(subjects);
    if (!statement) {
      const marks = Array.from({ length: subjects }, () => '?').join(', ');
      statement = db.prepare<unknown[], ChangeRow>(
        `SELECT id, at, actor, subject, before, after, version FROM policy_changes
         WHERE subject IN (${marks}) AND id < ? ORDER BY id DESC LIMIT ?`,
      );
      pages.set(subjects, statement);
    }
    return statement;
  };

  return {
    /** Policy version of the subject's last change; 0 if it never changed. */
    subjectVersion: (subject: string): number => s.lastVersion.get(subject) ?? 0,

    page(subjects: string[], page: HistoryPage): PolicyChange[] {
      if (subjects.length === 0) return [];
      const rows = pageStatement(subjects.length).all(...subjects, page.beforeId ?? Number.MAX_SAFE_INTEGER, page.limit);
      return rows.map((row) => ({ ...row, before: parse(row.before), after: parse(row.after) }));
    },

    locks: (): ExtensionLock[] => s.locks.all(),
  };
}
