package stackl.example.worker;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A STACKL worker in Java that serves the kind java-checksum (docs/worker-protocol.md).
 *
 * <pre>
 * java -jar target/java-worker.jar [--schemas DIR] [--also-probe]
 * </pre>
 *
 * Settings from the environment: STACKL_KAFKA_BROKERS, else KAFKA_BROKERS as the rest of the
 * system reads it, else 127.0.0.1:9092; STACKL_TOPIC_PREFIX (default "stackl."); STACKL_AVRO_DIR
 * (or --schemas), the repository's schemas/avro, found from the jar's place by default.
 * --also-probe serves the built-in kind probe as well, to try the protocol on a prefix where no
 * other worker runs.
 *
 * Prints `registered java-checksum` once the registry record is acknowledged and `ready` once
 * both consumers were assigned their partitions. Stops cleanly on SIGTERM.
 */
public final class Main {
  /** The worker pool: every worker of it shares its two consumer groups. */
  static final String POOL = ChecksumKind.NAME;

  private Main() {}

  public static void main(String[] args) throws Exception {
    List<String> arguments = List.of(args);
    String brokers = firstSet(System.getenv("STACKL_KAFKA_BROKERS"), System.getenv("KAFKA_BROKERS"), "127.0.0.1:9092");
    String prefix = firstSet(System.getenv("STACKL_TOPIC_PREFIX"), "stackl.");
    Path avroDir = Path.of(firstSet(option(arguments, "--schemas"), System.getenv("STACKL_AVRO_DIR"), defaultAvroDir()));
    String workerId = "java-" + UUID.randomUUID().toString().substring(0, 8);

    Map<String, Kind> kinds = new LinkedHashMap<>();
    List<Kind> served = arguments.contains("--also-probe") ? List.of(new ChecksumKind(), new ProbeKind()) : List.of(new ChecksumKind());
    for (Kind kind : served) kinds.put(kind.name(), kind);

    Envelopes envelopes;
    try {
      envelopes = Envelopes.load(avroDir);
    } catch (IOException e) {
      Log.error("cannot read the Avro schemas in " + avroDir + " (set STACKL_AVRO_DIR or --schemas to the repository's schemas/avro)", e);
      System.exit(2);
      return;
    }
    KafkaProducer<byte[], byte[]> producer = producer(brokers, workerId);
    OrderHandler handler = new OrderHandler(envelopes, producer, kinds, prefix, workerId);
    String dispatch = prefix + "task.dispatch";
    String rollbacks = prefix + "task.rollbacks";
    List<OrderLane> lanes = List.of(
        new OrderLane(brokers, dispatch, prefix + "pool." + POOL, handler),
        new OrderLane(brokers, rollbacks, prefix + "pool." + POOL + ".rollbacks", handler));
    List<Thread> threads = List.of(new Thread(lanes.get(0), "run-orders"), new Thread(lanes.get(1), "rollback-orders"));

    // SIGTERM (and SIGINT) run this, at any point of the start too: the lanes finish the order
    // in hand, commit what settled and leave their groups; then the producer flushes and closes.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      lanes.forEach(OrderLane::stop);
      for (Thread thread : threads) join(thread);
      producer.close();
    }, "shutdown"));

    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers))) {
      // Before consuming: a broker refuses tasks of a kind it has no registration for.
      KindRegistration.register(admin, producer, prefix + "task.kinds", POOL, workerId);
      System.out.println("registered " + ChecksumKind.NAME);
      awaitTopics(admin, List.of(dispatch, rollbacks));
    }

    threads.forEach(Thread::start);
    Log.info("worker " + workerId + " serves " + kinds.keySet() + " as pool " + POOL + " on " + brokers + " (prefix " + prefix + ")");
    // `ready` once the groups gave both lanes their partitions: from then on orders flow.
    while (lanes.stream().anyMatch(lane -> lane.assigned().getCount() > 0) && allAlive(threads)) TimeUnit.MILLISECONDS.sleep(50);
    if (allAlive(threads)) System.out.println("ready");

    // A lane that ended on its own (a result Kafka would not take, a lost broker) ends the
    // worker, so its supervisor can restart it; its orders are still uncommitted.
    while (allAlive(threads)) TimeUnit.MILLISECONDS.sleep(200);
    if (!lanes.stream().allMatch(OrderLane::stopped)) {
      Log.warn("an order lane stopped; exiting");
      System.exit(1);
    }
  }

  private static boolean allAlive(List<Thread> threads) {
    return threads.stream().allMatch(Thread::isAlive);
  }

  /**
   * The system creates the order topics (`stackl topics create`, or its broker at start).
   * Subscribed to a topic that is missing, a consumer would only notice it at its next metadata
   * refresh, minutes later: wait for them instead, so `ready` means ready.
   */
  private static void awaitTopics(Admin admin, List<String> topics) throws Exception {
    for (boolean said = false; !admin.listTopics().names().get().containsAll(topics); said = true) {
      if (!said) Log.info("waiting for the topics " + topics + " to be created");
      TimeUnit.SECONDS.sleep(1);
    }
  }

  /** acks=all and idempotent: a result is on every in-sync replica, and a retry never doubles it. */
  private static KafkaProducer<byte[], byte[]> producer(String brokers, String workerId) {
    Properties config = new Properties();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    config.put(ProducerConfig.CLIENT_ID_CONFIG, workerId);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    // A lost result makes its task wait out the deadline and roll back work that was done, so
    // it is worth a minute of retries (a leader moving takes seconds), as the TypeScript worker.
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
    config.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** schemas/avro of the repository the jar was built in: the jar sits in examples/java-worker/target. */
  private static String defaultAvroDir() {
    try {
      Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return jar.getParent().resolve("../../../schemas/avro").normalize().toString();
    } catch (URISyntaxException e) {
      return "schemas/avro";
    }
  }

  private static String option(List<String> args, String name) {
    int at = args.indexOf(name);
    return at >= 0 && at + 1 < args.size() ? args.get(at + 1) : null;
  }

  private static String firstSet(String... values) {
    for (String value : values) if (value != null && !value.isBlank()) return value;
    return null;
  }

  private static void join(Thread thread) {
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
