// A partition assigner for co-partitioned inputs: partition p of every subscribed
// topic goes to the same member, because partition p of requests, results and the
// changelog all describe the same tasks. kafkajs' round-robin assigner would split
// them.
//
// It is sticky: every move costs the new owner a fence, a barrier and a restore of the
// partition's changelog, and the partition serves nothing meanwhile. Each member tells
// the group (in its join metadata) the partition numbers it serves now, and the leader
// lets members keep them as far as a balanced share allows: a third member joining two
// with six partitions takes two, where dealing round-robin again moved four. Claims are
// only a preference; ownership stays guarded by the transactional fence, so a stale or
// conflicting claim costs a move, never a second writer.
import kafkajs, { type Assigner, type PartitionAssigner } from 'kafkajs';

// kafkajs is CommonJS; Node cannot see this export by name.
const { AssignerProtocol } = kafkajs;

export const CO_PARTITIONED = 'StacklCoPartitioned';

export interface MemberClaim {
  memberId: string;
  /** Partition numbers the member serves now (empty for a new member, or one of an older release). */
  owned: readonly number[];
}

/**
 * Every partition number to exactly one member; shares differ by at most one. Members
 * keep what they claim up to their share (the larger shares go to those that claim the
 * most, so fewer partitions move); the rest is dealt to members below their share.
 */
export function assignPartitionNumbers(claims: readonly MemberClaim[], partitions: number): Map<string, number[]> {
  const sorted = [...claims].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const result = new Map<string, number[]>(sorted.map((c) => [c.memberId, []]));
  if (sorted.length === 0) return result;
  const base = Math.floor(partitions / sorted.length);
  const larger = partitions % sorted.length;
  const validClaims = (c: MemberClaim) => new Set(c.owned.filter((p) => Number.isInteger(p) && p >= 0 && p < partitions));
  const byClaimSize = [...sorted].sort((a, b) => validClaims(b).size - validClaims(a).size);
  const share = new Map(byClaimSize.map((c, i) => [c.memberId, base + (i < larger ? 1 : 0)]));

  const taken = new Set<number>();
  for (const claim of sorted) {
    const mine = result.get(claim.memberId) as number[];
    for (const p of [...validClaims(claim)].sort((a, b) => a - b)) {
      if (mine.length >= (share.get(claim.memberId) ?? 0)) break;
      if (taken.has(p)) continue;
      taken.add(p);
      mine.push(p);
    }
  }
  let next = 0;
  for (const claim of sorted) {
    const mine = result.get(claim.memberId) as number[];
    while (mine.length < (share.get(claim.memberId) ?? 0)) {
      while (taken.has(next)) next += 1;
      taken.add(next);
      mine.push(next);
    }
    mine.sort((a, b) => a - b);
  }
  return result;
}

/** The partition numbers a member claims in its join metadata; anything unreadable claims nothing. */
export function claimedPartitions(memberMetadata: Buffer): number[] {
  try {
    const { userData } = AssignerProtocol.MemberMetadata.decode(memberMetadata) ?? {};
    if (userData === undefined || userData === null || userData.length === 0) return [];
    const parsed: unknown = JSON.parse(userData.toString('utf8'));
    return Array.isArray(parsed) ? parsed.filter((p): p is number => Number.isInteger(p)) : [];
  } catch {
    return [];
  }
}

/** `owned` tells the group, at each join, the partition numbers this member serves now. */
export function coPartitionedAssigner(owned: () => Iterable<number>): PartitionAssigner {
  return ({ cluster }) => {
    const assigner: Assigner = {
      name: CO_PARTITIONED,
      version: 1,
      async assign({ members, topics }) {
        const counts = topics.map((topic) => cluster.findTopicPartitionMetadata(topic).length);
        // Topics were verified co-partitioned at start-up; take the smallest count defensively.
        const partitions = Math.min(...counts);
        const claims = members.map((m) => ({ memberId: m.memberId, owned: claimedPartitions(m.memberMetadata) }));
        const byMember = assignPartitionNumbers(claims, partitions);
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
        const userData = Buffer.from(JSON.stringify([...owned()].sort((a, b) => a - b)));
        return { name: assigner.name, metadata: AssignerProtocol.MemberMetadata.encode({ version: assigner.version, topics, userData }) };
      },
    };
    return assigner;
  };
}
