import { describe, expect, it } from 'vitest';
import { loggingConfig, serverProperties } from '../../../deploy/local/kafka-config.js';

const layout = { host: '127.0.0.1', port: 9092, controllerPort: 9093, dataDir: 'data', configDir: 'config', logsDir: 'logs' };

function parse(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

describe('serverProperties', () => {
  const props = parse(serverProperties(layout));

  it('describes one combined KRaft node on loopback', () => {
    expect(props).toMatchObject({
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': '1@127.0.0.1:9093',
      listeners: 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:9092',
      'controller.listener.names': 'CONTROLLER',
      'log.dirs': 'data',
    });
  });

  it('gives every internal topic a single replica, or one node never creates them', () => {
    expect(props['offsets.topic.replication.factor']).toBe('1');
    expect(props['transaction.state.log.replication.factor']).toBe('1');
    expect(props['transaction.state.log.min.isr']).toBe('1');
  });

  it('keeps group joins and heap small on a two-core machine', () => {
    expect(props['group.initial.rebalance.delay.ms']).toBe('0');
    expect(Number(props['log.cleaner.dedupe.buffer.size'])).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(props['auto.create.topics.enable']).toBe('false');
  });
});

describe('loggingConfig', () => {
  it('uses log4j2 for Kafka 4 and log4j 1 (reload4j) for Kafka 3', () => {
    expect(loggingConfig(4, 'k.log')).toMatchObject({ file: 'log4j2.properties', jvmFlag: '-Dlog4j2.configurationFile=' });
    expect(loggingConfig(4, 'k.log').text).toContain('appender.file.fileName = k.log');
    expect(loggingConfig(3, 'k.log')).toMatchObject({ file: 'log4j.properties', jvmFlag: '-Dlog4j.configuration=file:' });
    expect(loggingConfig(3, 'k.log').text).toContain('log4j.appender.file.File=k.log');
  });
});
