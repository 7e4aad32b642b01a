import type { DecisionRecord } from '../store/roles/audit.js';
import { DECISION_COLUMNS, decisionDetailView, decisionView } from './decision-views.js';

export type ExportFormat = 'csv' | 'ndjson';

export const EXPORT_CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
};

/** Rows are sent in chunks of about this many characters: few writes, and little held at once. */
const CHUNK_CHARS = 64 * 1024;

/**
 * A cell as RFC 4180 has it, and safe to open in a spreadsheet: text that a spreadsheet would
 * run as a formula (`=`, `@`, or `+`/`-` not followed by a plain number) gets a leading `'`.
 * E.164 numbers stay as they are.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=@\t\r]/.test(text) || (/^[+-]/.test(text) && !/^[+-]?[0-9.]+$/.test(text))) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(d: DecisionRecord): string {
  const view = decisionView(d);
  return `${DECISION_COLUMNS.map((column) => csvCell(view[column])).join(',')}\r\n`;
}

const ndjsonLine = (d: DecisionRecord): string => `${JSON.stringify(decisionDetailView(d))}\n`;

/**
 * The export as text chunks, pulled one at a time by the reply stream: with the store reading
 * a batch at a time, memory stays flat whatever the number of decisions. CSV has the flat
 * columns; NDJSON has every field, every check's outcome included.
 */
export async function* exportChunks(records: AsyncIterable<DecisionRecord>, format: ExportFormat): AsyncGenerator<string> {
  const line = format === 'csv' ? csvLine : ndjsonLine;
  let chunk = format === 'csv' ? `${DECISION_COLUMNS.join(',')}\r\n` : '';
  for await (const record of records) {
    chunk += line(record);
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}
