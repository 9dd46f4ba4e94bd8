// One stream of changed tasks (GET /tasks/live) shared by every view. EventSource
// cannot send the key, so the stream is a fetch whose body is read as it arrives; after
// an error it connects again a little later.
import { apiFetch, type Task } from './api.js';

type Listener = (task: Task) => void;
type StateListener = (connected: boolean) => void;

const listeners = new Set<Listener>();
const stateListeners = new Set<StateListener>();
let running: AbortController | null = null;

export function onTaskChange(listener: Listener): () => void {
  listeners.add(listener);
  if (running === null) {
    running = new AbortController();
    void follow(running.signal);
  }
  return () => listeners.delete(listener);
}

export function onLiveState(listener: StateListener): () => void {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
}

const announce = (connected: boolean) => stateListeners.forEach((l) => l(connected));

async function follow(signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const response = await apiFetch('/tasks/live', { headers: { accept: 'text/event-stream' }, signal });
      if (!response.ok || response.body === null) throw new Error(`live: ${response.status}`);
      announce(true);
      await readEvents(response.body, (data) => {
        const task = JSON.parse(data) as Task;
        listeners.forEach((l) => l(task));
      });
    } catch {
      // Fall through to the wait: the server restarted, the network dropped, the key was refused.
    }
    announce(false);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** Server-sent events: blocks separated by a blank line; only plain `data:` blocks carry tasks. */
async function readEvents(body: ReadableStream<Uint8Array>, onData: (data: string) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n');
      if (lines.some((l) => l.startsWith('event:'))) continue;
      const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart());
      if (data.length > 0) onData(data.join('\n'));
    }
  }
}
