// Reads one task's history straight from task.events, not from PostgreSQL: the task's
// partition from its beginning to the end it had when the read started, read committed,
// each record decoded with the codec. kafkajs consumes only through a group, so a
// throwaway group with an assigner that hands out just that one partition does it.
import { randomUUID } from 'node:crypto';
import kafkajs, { type Assigner, type Kafka, type PartitionAssigner } from 'kafkajs';
import { StacklError } from '../../core/errors.js';
import { decode, taskEventSchema, type TaskEventMessage } from '../../schemas/index.js';
import { topicOffsets } from '../../topics/topic-offsets.js';
import { readToEnd } from './read-to-end.js';

// kafkajs is CommonJS; Node cannot see this export by name.
const { AssignerProtocol } = kafkajs;

export interface LoggedEvent {
  offset: string;
  event: TaskEventMessage;
}

function onePartition(topic: string, partition: number): PartitionAssigner {
  return () => {
    const assigner: Assigner = {
      name: 'StacklOnePartition',
      version: 1,
      async assign({ members }) {
        return members.map(({ memberId }, i) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: i === 0 ? { [topic]: [partition] } : {}, userData: Buffer.alloc(0) }),
        }));
      },
      protocol: ({ topics }) => ({ name: assigner.name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) }),
    };
    return assigner;
  };
}

export async function readTaskHistory(kafka: Kafka, topic: string, partition: number, taskId: string, timeoutMs: number): Promise<LoggedEvent[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `stackl-audit-${randomUUID()}`;
  try {
    const offsets = (await topicOffsets(admin, topic)).find((o) => o.partition === partition);
    if (offsets === undefined) throw new StacklError('INVALID_PARTITION', `${topic} has no partition ${partition}`, { httpStatus: 400 });
    const end = BigInt(offsets.high);
    if (end <= BigInt(offsets.low)) return [];
    const found: LoggedEvent[] = [];
    await readToEnd({
      kafka,
      topic,
      groupId,
      ends: new Map([[partition, end]]),
      partitionAssigners: [onePartition(topic, partition)],
      timeoutMs,
      timeoutCode: 'AUDIT_TIMEOUT',
      onMessage: async (_partition, message) => {
        if (message.key?.toString() === taskId) found.push({ offset: message.offset, event: await decode(message.value ?? Buffer.alloc(0), taskEventSchema) });
      },
    });
    return found;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
}
