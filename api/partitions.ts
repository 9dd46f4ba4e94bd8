// GET /partitions: for each of STACKL's consumer groups (broker, projector, workers),
// every partition of the topic it reads, with the member that owns it, where the group
// has committed, the end of the log and the lag between. The console marks a partition
// stuck when its lag stays above zero while its commit does not move.
import { AssignerProtocol, type Admin } from 'kafkajs';
import { z } from 'zod';
import { consumerGroup, LIFECYCLE_APP, type TopicNames } from '../topics/names.js';
import { topicOffsets } from '../topics/topic-offsets.js';

export const partitionRowSchema = z.object({
  role: z.string(),
  group: z.string(),
  topic: z.string(),
  partition: z.number(),
  owner: z.string().nullable().describe('clientId@host of the member the partition is assigned to; null when none'),
  committed: z.string().nullable(),
  end: z.string(),
  lag: z.number(),
});
export type PartitionRow = z.infer<typeof partitionRowSchema>;
export type PartitionReader = () => Promise<PartitionRow[]>;

/** The groups read; the workers' and projector's app names are spelled here rather than imported, so api/ does not load their modules. */
export function stacklGroups(prefix: string, topics: TopicNames): Array<{ role: string; group: string; topic: string }> {
  return [
    { role: 'broker', group: consumerGroup(prefix, LIFECYCLE_APP), topic: topics.requests },
    { role: 'workers', group: consumerGroup(prefix, 'workers'), topic: topics.dispatch },
    { role: 'projector', group: consumerGroup(prefix, 'projector'), topic: topics.events },
  ];
}

export function kafkaPartitions(admin: Admin, groups: Array<{ role: string; group: string; topic: string }>): PartitionReader {
  return async () => (await Promise.all(groups.map((g) => readGroup(admin, g)))).flat();
}

async function readGroup(admin: Admin, g: { role: string; group: string; topic: string }): Promise<PartitionRow[]> {
  const [ends, committed, described] = await Promise.all([
    topicOffsets(admin, g.topic),
    admin.fetchOffsets({ groupId: g.group, topics: [g.topic] }),
    admin.describeGroups([g.group]),
  ]);
  const owners = new Map<number, string>();
  for (const member of described.groups[0]?.members ?? []) {
    // A member whose assignment is not kafkajs' own format owns nothing we can name.
    try {
      const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
      for (const p of assignment?.assignment[g.topic] ?? []) owners.set(p, `${member.clientId}@${member.clientHost.replace(/^\//, '')}`);
    } catch {
      continue;
    }
  }
  const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
  return ends
    .map((e) => {
      const offset = at.get(e.partition);
      const done = offset === undefined || offset === '-1' ? null : offset;
      // Nothing committed yet: everything since the log's start waits.
      const lag = Number(BigInt(e.high) - BigInt(done ?? e.low));
      return { role: g.role, group: g.group, topic: g.topic, partition: e.partition, owner: owners.get(e.partition) ?? null, committed: done, end: e.high, lag: Math.max(0, lag) };
    })
    .sort((a, b) => a.partition - b.partition);
}
