// server.properties of a cluster node and of a SASL_SSL node (the single node's own is
// covered by kafka-config.test.ts and stays as it was).
import { describe, expect, it } from 'vitest';
import { serverProperties } from '../../../deploy/local/kafka-config.js';

const base = { host: '127.0.0.1', port: 9094, controllerPort: 9095, dataDir: 'data', configDir: 'config', logsDir: 'logs' };
const voters = [1, 2, 3].map((nodeId) => ({ nodeId, host: '127.0.0.1', controllerPort: 9091 + 2 * nodeId }));
const secure = { keystoreFile: 'ks.pem', truststoreFile: 'ca.pem', interBroker: { username: 'admin', password: 'a1' }, plainUsers: { stackl: 's1' } };

function parse(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

describe('a node of a 3-node cluster', () => {
  const props = parse(serverProperties({ ...base, cluster: { nodeId: 2, voters } }));

  it('has its own id and every node as a voter', () => {
    expect(props['node.id']).toBe('2');
    expect(props['controller.quorum.voters']).toBe('1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097');
    expect(props.listeners).toBe('PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9095');
  });

  it('replicates internal topics three times with two in sync, and fences a silent node within seconds', () => {
    expect(props).toMatchObject({
      'offsets.topic.replication.factor': '3',
      'transaction.state.log.replication.factor': '3',
      'transaction.state.log.min.isr': '2',
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'broker.session.timeout.ms': '4000',
    });
  });
});

describe('a node with SASL_SSL listeners', () => {
  const props = parse(serverProperties({ ...base, secure: { ...secure, ipv6Port: 9096 } }));

  it('listens SASL_SSL on 127.0.0.1 and [::1], brokers included, with the controller on PLAINTEXT loopback', () => {
    expect(props.listeners).toBe('SASL_SSL://127.0.0.1:9094,SASL_SSL_IPV6://[::1]:9096,CONTROLLER://127.0.0.1:9095');
    expect(props['advertised.listeners']).toBe('SASL_SSL://127.0.0.1:9094,SASL_SSL_IPV6://[::1]:9096');
    expect(props['listener.security.protocol.map']).toBe('SASL_SSL:SASL_SSL,SASL_SSL_IPV6:SASL_SSL,CONTROLLER:PLAINTEXT');
    expect(props['inter.broker.listener.name']).toBe('SASL_SSL');
    expect(props['sasl.mechanism.inter.broker.protocol']).toBe('SCRAM-SHA-256');
    expect(props['sasl.enabled.mechanisms']).toBe('SCRAM-SHA-256,SCRAM-SHA-512,PLAIN');
  });

  it('reads PEM files and logs users in with SCRAM and PLAIN on each listener', () => {
    expect(props).toMatchObject({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': 'ks.pem', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': 'ca.pem', 'ssl.client.auth': 'requested' });
    for (const listener of ['sasl_ssl', 'sasl_ssl_ipv6']) {
      expect(props[`listener.name.${listener}.scram-sha-256.sasl.jaas.config`]).toBe('org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="a1";');
      expect(props[`listener.name.${listener}.plain.sasl.jaas.config`]).toBe(
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="a1" user_admin="a1" user_stackl="s1";',
      );
    }
  });

  it('refuses a password it would have to quote', () => {
    expect(() => serverProperties({ ...base, secure: { ...secure, plainUsers: { stackl: 'a"b' } } })).toThrow(/holds characters this local configuration does not quote/);
  });
});
