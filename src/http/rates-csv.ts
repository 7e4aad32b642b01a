import { ValidationError, type FieldProblem } from '../errors.js';
import type { RateEntry } from '../policy/document.js';

const COLUMNS = ['prefix', 'perMinute', 'increment', 'minimum'] as const;

const unquote = (cell: string): string => {
  const trimmed = cell.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).replace(/""/g, '"') : trimmed;
};

/**
 * A rate table as CSV: `prefix,perMinute,increment[,minimum]`, one rate a line, as carriers
 * and spreadsheets export it. A header line naming the columns, blank lines and lines starting
 * with `#` are skipped. Problems name the line; the rest of the checking is the JSON body's.
 */
export function parseRatesCsv(text: string): { rates: RateEntry[] } {
  const rates: RateEntry[] = [];
  const problems: FieldProblem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    const cells = line.split(',').map(unquote);
    if (cells.every((c) => c === '') || cells[0]?.startsWith('#')) return;
    if (cells[0]?.toLowerCase() === 'prefix') return;
    const field = `/rates/${rates.length}`;
    const where = `line ${i + 1}`;
    if (cells.length < 3 || cells.length > 4) {
      problems.push({ field, message: `${where}: expected prefix,perMinute,increment[,minimum], got ${cells.length} column(s)` });
      return;
    }
    const [prefix, perMinute, increment, minimum] = cells as [string, string, string, string | undefined];
    const numbers = [perMinute, increment, ...(minimum === undefined || minimum === '' ? [] : [minimum])].map(Number);
    const bad = numbers.findIndex((n, k) => Number.isNaN(n) || cells[k + 1] === '');
    if (bad >= 0) {
      problems.push({ field: `${field}/${COLUMNS[bad + 1]}`, message: `${where}: "${cells[bad + 1]}" is not a number` });
      return;
    }
    const [perMinuteValue, incrementValue, minimumValue] = numbers as [number, number, number | undefined];
    rates.push({ prefix, perMinute: perMinuteValue, increment: incrementValue, ...(minimumValue === undefined ? {} : { minimum: minimumValue }) });
  });
  if (problems.length > 0) throw new ValidationError(problems, 'rates CSV');
  return { rates };
}
