// Calls to the STACKL API from the console. A 401 asks the person for a key once (the
// prompt in app.ts answers), keeps it in sessionStorage for the tab's life, and every
// call sends it as a bearer token.
const KEY_STORAGE = 'stackl.apiKey';

export interface Task {
  id: string;
  kind: string | null;
  action: string | null;
  status: string;
  rollback: string | null;
  failure: { reason: string; message: string | null } | null;
  rejection: { code: string; message: string | null } | null;
  attempts: number;
  maxAttempts: number | null;
  workerId: string | null;
  progress: { percent: number; message: string | null } | null;
  attemptError: string | null;
  rollbackAttempts: number;
  rollbackError: string | null;
  origin: { type: string; target: string | null } | null;
  idempotencyKey: string | null;
  payload: unknown;
  output: unknown;
  deadlineAt: string | null;
  createdAt: string;
  updatedAt: string;
  sequence: number;
}

export interface TaskEvent {
  sequence: number;
  eventId: string;
  type: string;
  attempt: number | null;
  rollbackAttempt: number | null;
  time: string;
  body: unknown;
  correlationId: string | null;
}

export interface TaskPage {
  items: Task[];
  nextCursor: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let key: string | null = sessionStorage.getItem(KEY_STORAGE);
/** The one question in flight: every call that met a 401 meanwhile waits for its answer. */
let asking: Promise<string> | null = null;
let askPerson: ((reason: string) => Promise<string>) | null = null;

/** The app installs how to ask for a key (a prompt it renders). */
export function onKeyNeeded(ask: (reason: string) => Promise<string>): void {
  askPerson = ask;
}

export function forgetKey(): void {
  key = null;
  sessionStorage.removeItem(KEY_STORAGE);
}

async function newKey(reason: string): Promise<string> {
  if (askPerson === null) throw new ApiError(401, 'UNAUTHENTICATED', reason);
  asking ??= askPerson(reason).finally(() => {
    asking = null;
  });
  const answer = await asking;
  key = answer;
  sessionStorage.setItem(KEY_STORAGE, answer);
  return answer;
}

/** fetch against the API with the key; a 401 asks for a key and tries again. */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  for (;;) {
    const sentKey = key;
    const headers = new Headers(init.headers);
    if (sentKey !== null) headers.set('authorization', `Bearer ${sentKey}`);
    const response = await fetch(path, { ...init, headers });
    if (response.status !== 401) return response;
    const problem = await problemOf(response);
    // Another call may have got a key while this one waited for its answer.
    if (key !== sentKey) continue;
    await newKey(sentKey === null ? 'This API needs a key.' : `That key was refused: ${problem.message}`);
  }
}

async function problemOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: string; detail?: string };
    return new ApiError(response.status, body.code ?? 'ERROR', body.detail ?? response.statusText);
  } catch {
    return new ApiError(response.status, 'ERROR', text || response.statusText);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await apiFetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw await problemOf(response);
  return (await response.json()) as T;
}

/** An operator command; the API wants application/json even without a body. */
export async function postCommand(path: string, body: Record<string, string>): Promise<void> {
  const response = await apiFetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw await problemOf(response);
}

export const listTasks = (query: URLSearchParams) => getJson<TaskPage>(`/tasks?${query.toString()}`);
export const getTask = (id: string) => getJson<Task>(`/tasks/${encodeURIComponent(id)}`);
export const getEvents = (id: string) => getJson<{ items: TaskEvent[] }>(`/tasks/${encodeURIComponent(id)}/events`).then((r) => r.items);
export const whoAmI = () => getJson<{ keys: boolean; scopes: string[] }>('/whoami');
