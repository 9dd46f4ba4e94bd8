// An open-loop load: POST /tasks at a fixed rate whatever the answers, as many
// independent clients would (a closed loop slows down with the server and never
// overloads it). Every answer is kept: status, code, Retry-After, the task id.
import { setTimeout as sleep } from 'node:timers/promises';

export interface Answer {
  sentAt: number;
  answeredAt: number;
  status: number;
  code?: string;
  /** Why a 503 OVERLOADED refused it (pending, kafka, requests, orders). */
  reason?: string;
  retryAfter?: string;
  taskId?: string;
  /** No HTTP answer at all (a reset, a timeout). */
  error?: string;
}

export async function openLoop(url: string, ratePerSecond: number, durationMs: number, body: () => string): Promise<Answer[]> {
  const answers: Answer[] = [];
  const inFlight = new Set<Promise<void>>();
  const began = Date.now();
  let sent = 0;
  while (Date.now() - began < durationMs) {
    const due = Math.floor(((Date.now() - began) / 1000) * ratePerSecond);
    for (; sent < due; sent++) {
      const request = post(url, body()).then((answer) => {
        answers.push(answer);
      });
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    }
    await sleep(5);
  }
  await Promise.all(inFlight);
  return answers;
}

async function post(url: string, body: string): Promise<Answer> {
  const sentAt = Date.now();
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(60_000) });
    const json = (await response.json().catch(() => ({}))) as { code?: string; id?: string; reason?: string };
    const retryAfter = response.headers.get('retry-after');
    return {
      sentAt,
      answeredAt: Date.now(),
      status: response.status,
      ...(json.code === undefined ? {} : { code: json.code }),
      ...(json.reason === undefined ? {} : { reason: json.reason }),
      ...(json.id === undefined ? {} : { taskId: json.id }),
      ...(retryAfter === null ? {} : { retryAfter }),
    };
  } catch (error) {
    return { sentAt, answeredAt: Date.now(), status: 0, error: error instanceof Error ? error.message : String(error) };
  }
}
