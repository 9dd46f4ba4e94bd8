import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.js';
import { resolveDurability } from '../../../core/topic-durability.js';

describe('resolveDurability', () => {
  it('defaults to min(3, brokers) replicas with one replica allowed out of sync, never fewer than one in sync', () => {
    expect(resolveDurability({}, 1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(resolveDurability({}, 2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(resolveDurability({}, 5)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(resolveDurability({ replicationFactor: 5 }, 5)).toEqual({ replicationFactor: 5, minInsyncReplicas: 4 });
    expect(resolveDurability({ minInsyncReplicas: 3 }, 3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 3 });
  });

  it('refuses more replicas than brokers alive, and a min ISR above the replicas it gets', () => {
    expect(() => resolveDurability({ replicationFactor: 3 }, 1)).toThrow(ConfigError);
    expect(() => resolveDurability({ replicationFactor: 3 }, 1)).toThrow('STACKL_REPLICATION_FACTOR is 3 but the cluster has 1 broker alive');
    expect(() => resolveDurability({ minInsyncReplicas: 2 }, 1)).toThrow('STACKL_MIN_INSYNC_REPLICAS (2) exceeds the replication factor (1, from min(3, 1 brokers))');
  });
});
