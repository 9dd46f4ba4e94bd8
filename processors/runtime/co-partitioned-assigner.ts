// A partition assigner for co-partitioned inputs: partition p of every subscribed
// topic goes to the same member, because partition p of requests, results and the
// changelog all describe the same tasks. kafkajs' round-robin assigner would split
// them. Partition numbers are dealt round-robin over the members sorted by id.
import kafkajs, { type Assigner, type PartitionAssigner } from 'kafkajs';

// kafkajs is CommonJS; Node cannot see this export by name.
const { AssignerProtocol } = kafkajs;

export const CO_PARTITIONED = 'StacklCoPartitioned';

export function assignPartitionNumbers(memberIds: string[], partitions: number): Map<string, number[]> {
  const sorted = [...memberIds].sort();
  const result = new Map<string, number[]>(sorted.map((id) => [id, []]));
  for (let p = 0; p < partitions; p++) result.get(sorted[p % sorted.length] as string)?.push(p);
  return result;
}

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => {
  const assigner: Assigner = {
    name: CO_PARTITIONED,
    version: 1,
    async assign({ members, topics }) {
      const counts = topics.map((topic) => cluster.findTopicPartitionMetadata(topic).length);
      // Topics were verified co-partitioned at start-up; take the smallest count defensively.
      const partitions = Math.min(...counts);
      const byMember = assignPartitionNumbers(members.map((m) => m.memberId), partitions);
      return members.map(({ memberId }) => {
        const numbers = byMember.get(memberId) ?? [];
        const assignment = Object.fromEntries(topics.map((topic) => [topic, numbers]));
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: assigner.version, assignment, userData: Buffer.alloc(0) }),
        };
      });
    },
    protocol({ topics }) {
      return { name: assigner.name, metadata: AssignerProtocol.MemberMetadata.encode({ version: assigner.version, topics, userData: Buffer.alloc(0) }) };
    },
  };
  return assigner;
};
