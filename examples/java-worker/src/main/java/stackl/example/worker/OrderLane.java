package stackl.example.worker;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * One order topic taken by one consumer group, on a thread of its own. The worker runs two
 * lanes, run orders and rollback orders, so a rollback never waits behind a backlog of new
 * work. Orders are handled one at a time, and an offset is committed only once every order
 * before it settled: a worker that dies leaves its unsettled orders to the group's next member
 * (running one twice is safe, results are fenced by attempt number).
 */
final class OrderLane implements Runnable {
  private static final Duration POLL = Duration.ofMillis(200);

  private final String topic;
  private final String group;
  private final OrderHandler handler;
  private final Properties config = new Properties();
  private final CountDownLatch assigned = new CountDownLatch(1);
  // Read by the lane's thread, set by the shutdown hook: poll() times out every 200 ms, so the
  // lane notices within that and never needs consumer.wakeup(), whose exception could land in
  // the middle of committing work that already settled.
  private volatile boolean stopping = false;

  OrderLane(String brokers, String topic, String group, OrderHandler handler) {
    this.topic = topic;
    this.group = group;
    this.handler = handler;
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    // A pool that joins late still sees the orders dispatched before its group first committed
    // (those past their deadline are skipped, the rest are fenced if already done).
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // Orders are handled one by one: fetch a few at a time, so a rebalance waits for little.
    config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "50");
    // The broker writes orders in transactions: only committed ones are orders.
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
  }

  /** Counts down once the group gave this lane its partitions. */
  CountDownLatch assigned() {
    return assigned;
  }

  void stop() {
    stopping = true;
  }

  /** Whether the lane was asked to stop (a lane that ended without it failed). */
  boolean stopped() {
    return stopping;
  }

  /** Runs on the lane's own thread: a KafkaConsumer is used by one thread only. */
  @Override
  public void run() {
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    try {
      consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          assigned.countDown();
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          // Nothing to do: every batch is committed before the next poll, where rebalances happen.
        }
      });
      while (!stopping) {
        Map<TopicPartition, OffsetAndMetadata> settled = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
          // Stopping mid-batch: commit what settled; the rest goes to the next member.
          if (stopping) break;
          handler.handle(record, group);
          settled.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
        }
        if (!settled.isEmpty()) consumer.commitSync(settled);
      }
    } catch (Exception e) {
      // Nothing of the failed batch is committed; Main sees the lane end and exits non-zero.
      Log.error("lane " + topic + " stopped", e);
    } finally {
      // Leaves the group at once, so its partitions move to another member without waiting out the session.
      consumer.close();
    }
  }
}
