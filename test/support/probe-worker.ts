// A scripted stand-in for the workers of a later issue, for broker tests on the real
// broker: it takes work orders from task.dispatch and task.rollbacks and reports results on task.results
// exactly as a worker must (AttemptStarted, then the outcome, fenced by attempt
// number). What it does per order comes from a script, by default the probe payload.
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { decode, encode, taskDispatchSchema, taskResultSchema, type TaskDispatchMessage, type TaskResultMessage, type TaskSpec } from '../../schemas/index.js';
import { eventId } from '../../processors/broker/ids.js';
import { consumerGroup, type TopicNames } from '../../topics/names.js';
import { WORKERS_APP } from '../../workers/start-worker.js';
import { token } from './names.js';

export type AttemptBehaviour = 'succeed' | 'fail' | 'fail-retriable' | 'hang' | 'ignore';
export type RollbackBehaviour = 'succeed' | 'fail' | 'ignore';

export interface WorkerScript {
  attempt(task: TaskSpec, attempt: number): AttemptBehaviour;
  rollback(task: TaskSpec, rollbackAttempt: number): RollbackBehaviour;
}

/** The probe kind's own semantics: payload.outcome and payload.rollback. */
export const probeScript: WorkerScript = {
  attempt(task) {
    const payload = JSON.parse(task.payload) as { outcome: 'succeed' | 'fail' | 'hang' };
    return payload.outcome;
  },
  rollback(task) {
    const payload = JSON.parse(task.payload) as { rollback?: 'succeed' | 'fail' };
    return payload.rollback ?? 'succeed';
  },
};

export class ScriptedWorker {
  readonly workerId = `test-worker-${token()}`;
  readonly received: TaskDispatchMessage[] = [];
  private readonly consumer: Consumer;
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly topics: TopicNames,
    private readonly script: WorkerScript = probeScript,
  ) {
    // The workers' own group (docs/worker-protocol.md): the broker and the API read its
    // lag as the queue of orders waiting, and shed new tasks when it stops moving.
    const prefix = topics.dispatch.slice(0, -'task.dispatch'.length);
    this.consumer = kafka.consumer({ groupId: consumerGroup(prefix, WORKERS_APP), maxWaitTimeInMs: 50 });
    this.producer = kafka.producer({ idempotent: true });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topics.dispatch, this.topics.rollbacks], fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const order = await decode(message.value ?? Buffer.alloc(0), taskDispatchSchema);
        this.received.push(order);
        await this.handle(order);
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  /** Sends a result as if from a worker, e.g. a stale or late one. */
  async report(taskId: string, result: Pick<TaskResultMessage, 'type' | 'body'>): Promise<void> {
    const message = { eventId: eventId(), taskId, sequence: 0, time: Date.now(), causationId: null, correlationId: null, ...result } as TaskResultMessage;
    await this.producer.send({ topic: this.topics.results, acks: -1, messages: [{ key: taskId, value: encode(taskResultSchema, message) }] });
  }

  private async handle(order: TaskDispatchMessage): Promise<void> {
    const workerId = this.workerId;
    if (order.type === 'RunAttempt') {
      const { task, attempt } = order.body;
      const behaviour = this.script.attempt(task, attempt);
      if (behaviour === 'ignore') return;
      await this.report(task.id, { type: 'AttemptStarted', body: { attempt, workerId } });
      if (behaviour === 'succeed') await this.report(task.id, { type: 'AttemptSucceeded', body: { attempt, workerId, output: JSON.stringify({ attempt }) } });
      if (behaviour === 'fail' || behaviour === 'fail-retriable') {
        await this.report(task.id, { type: 'AttemptFailed', body: { attempt, workerId, message: `scripted failure of attempt ${attempt}`, retriable: behaviour === 'fail-retriable' } });
      }
      return;
    }
    if (order.type !== 'RunRollback') return;
    const { task, rollbackAttempt } = order.body;
    const behaviour = this.script.rollback(task, rollbackAttempt);
    if (behaviour === 'succeed') await this.report(task.id, { type: 'RollbackSucceeded', body: { rollbackAttempt, workerId } });
    if (behaviour === 'fail') await this.report(task.id, { type: 'RollbackFailed', body: { rollbackAttempt, workerId, message: `scripted rollback failure ${rollbackAttempt}` } });
  }
}
