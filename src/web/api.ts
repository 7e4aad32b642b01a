const TOKEN_KEY = 'dialguard.token';

/** The token lives for the browser session only: closing the tab forgets it. */
export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string): void => sessionStorage.setItem(TOKEN_KEY, value),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

export interface FieldProblem {
  field: string;
  message: string;
}

/** An error answer of the API: its stable code, message and, for validation, the fields at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }

  get fields(): FieldProblem[] {
    return Array.isArray(this.details) ? (this.details as FieldProblem[]).filter((d) => typeof d?.field === 'string') : [];
  }
}

export interface Answer<T> {
  body: T;
  etag: string | null;
}

export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token.get() ?? ''}`);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const response = await fetch(`/api/v1${path}`, { ...init, headers });
  if (!response.ok) {
    const text = await response.text();
    let parsed: { error?: string; message?: string; details?: unknown } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = { message: text };
    }
    throw new ApiError(response.status, parsed.error ?? `HTTP ${response.status}`, parsed.message ?? response.statusText, parsed.details ?? null);
  }
  return response;
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<Answer<T>> {
  const response = await request(path, init);
  const text = await response.text();
  return { body: (text ? JSON.parse(text) : null) as T, etag: response.headers.get('etag') };
}

export async function get<T>(path: string): Promise<T> {
  return (await api<T>(path)).body;
}

export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return (await api<T>(path, { method: 'POST', body: JSON.stringify(body) })).body;
}

export function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

export function explain(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}
