// The `kafka` broker behind the broker interface: commands go to task.requests through
// the client; `get` reads the lifecycle processor's own table, which only the instance
// owning the task's partition holds. Clients that are not that instance read the
// PostgreSQL projection instead (the REST API does).
import { StacklError } from '../../../core/errors.js';
import { taskView, type TaskView } from '../../lifecycle/index.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { isTaskId } from '../ids.js';
import type { KafkaBrokerClient } from '../kafka-broker-client.js';
import type { OperatorRequest, Receipt, SubmitRequest, TaskBroker } from '../task-broker.js';
import type { RunningLifecycleApp } from './lifecycle-app.js';

export class KafkaTaskBroker implements TaskBroker {
  constructor(
    private readonly client: KafkaBrokerClient,
    private readonly processor: RunningLifecycleApp,
    private readonly partitions: number,
  ) {}

  submit(request: SubmitRequest): Promise<Receipt> {
    return this.client.submit(request);
  }

  cancel(taskId: string, request?: OperatorRequest): Promise<Receipt> {
    return this.client.cancel(taskId, request);
  }

  retryRollback(taskId: string, request?: OperatorRequest): Promise<Receipt> {
    return this.client.retryRollback(taskId, request);
  }

  async get(taskId: string): Promise<TaskView | null> {
    if (!isTaskId(taskId)) throw new StacklError('INVALID_TASK_ID', `"${taskId}" is not a task id (a UUID)`, { httpStatus: 400 });
    const partition = partitionForKey(taskId, this.partitions);
    if (!this.processor.app.stats().ownedPartitions.includes(partition)) {
      throw new StacklError('TASK_NOT_LOCAL', `task ${taskId} lives on partition ${partition}, which another broker instance owns; read the projection`, { httpStatus: 503, retriable: true });
    }
    const state = this.processor.app.get(taskId);
    return state === undefined ? null : taskView(state);
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.processor.stop();
  }
}
