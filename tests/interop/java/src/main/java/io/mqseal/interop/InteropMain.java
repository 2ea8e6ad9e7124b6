package io.mqseal.interop;

import io.mqseal.MqsealCipher;
import io.mqseal.rocketmq5.DecryptingSimpleConsumer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;

/**
 * Entry point of the Java side of the interop matrix, run by scripts/test-interop.sh.
 *
 * <pre>
 * produce --namesrv ADDR --endpoint HOST:PORT --legs java,java-grpc,c --keyring FILE
 *         --key-id ID --count N --c-dir DIR
 * consume --namesrv ADDR --endpoint HOST:PORT --legs java,java-grpc,c --keyring FILE
 *         --topics T1,T2 --expect N --out-dir DIR --timeout SECONDS
 * </pre>
 *
 * The {@code java} leg encrypts and decrypts with mqseal-rocketmq on the remoting client, through
 * the NameServer. The {@code java-grpc} leg uses mqseal-rocketmq5 on rocketmq-client-java, through
 * the proxy's gRPC endpoint. The {@code c} leg is a plain
 * RocketMQ client without mqseal that carries the C program's envelopes: it sends the files in
 * {@code --c-dir} and writes what it receives to {@code --out-dir} for the C program to decrypt.
 * {@code consume} writes {@code consumers.ready} to the output directory once its consumers have
 * started, and exits 1 when a leg misses messages after the timeout.
 */
public final class InteropMain {
  private InteropMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || (!"produce".equals(args[0]) && !"consume".equals(args[0]))) {
      System.err.println("usage: InteropMain produce|consume --namesrv ADDR --legs java,c ...");
      System.exit(2);
    }
    Map<String, String> options = options(Arrays.copyOfRange(args, 1, args.length));
    int status = "produce".equals(args[0]) ? produce(options) : consume(options);
    System.exit(status);
  }

  private static int produce(Map<String, String> options) throws Exception {
    List<String> legs = list(required(options, "legs"));
    DefaultMQProducer producer = Producers.start(required(options, "namesrv"), "interop-producer");
    try {
      if (legs.contains("java")) {
        int sent =
            Producers.sendJava(
                producer,
                Path.of(required(options, "keyring")),
                required(options, "key-id"),
                Integer.parseInt(required(options, "count")));
        System.out.println("interop: java producer sent " + sent + " messages");
      }
      if (legs.contains("java-grpc")) {
        int sent =
            new GrpcLeg(required(options, "endpoint"))
                .send(
                    Path.of(required(options, "keyring")),
                    required(options, "key-id"),
                    Integer.parseInt(required(options, "count")));
        System.out.println("interop: java-grpc producer sent " + sent + " messages");
      }
      if (legs.contains("c")) {
        int sent = Producers.sendCarried(producer, Path.of(required(options, "c-dir")));
        System.out.println("interop: c producer (plain carrier) sent " + sent + " messages");
      }
    } finally {
      producer.shutdown();
    }
    return 0;
  }

  private static int consume(Map<String, String> options) throws Exception {
    List<String> legs = list(required(options, "legs"));
    String namesrv = required(options, "namesrv");
    List<String> topics = list(required(options, "topics"));
    int expected = Integer.parseInt(required(options, "expect"));
    long timeout = Long.parseLong(required(options, "timeout"));
    Path outDir = Path.of(required(options, "out-dir"));

    MqsealCipher cipher =
        MqsealCipher.builder().keyringPath(Path.of(required(options, "keyring"))).build();
    Results results = null;
    Results grpcResults = null;
    DecryptingSimpleConsumer grpcConsumer = null;
    Consumers.Carrier carrier = null;
    DefaultMQPushConsumer javaConsumer = null;
    DefaultMQPushConsumer carrierConsumer = null;
    int status = 0;
    try {
      if (legs.contains("java")) {
        results = new Results("java", outDir.resolve("java.jsonl"), expected);
        javaConsumer = Consumers.create(namesrv, "interop-java-consumer", topics);
        Consumers.registerJava(javaConsumer, cipher, results);
        javaConsumer.start();
      }
      if (legs.contains("c")) {
        carrier =
            new Consumers.Carrier(
                outDir.resolve("c-received.bin"), outDir.resolve("c-received.props"), expected);
        carrierConsumer = Consumers.create(namesrv, "interop-c-consumer", topics);
        carrier.register(carrierConsumer);
        carrierConsumer.start();
      }
      if (legs.contains("java-grpc")) {
        grpcResults = new Results("java-grpc", outDir.resolve("java-grpc.jsonl"), expected);
        grpcConsumer = new GrpcLeg(required(options, "endpoint")).startConsumer(cipher, topics);
      }
      Files.writeString(outDir.resolve("consumers.ready"), "ready\n");
      long deadline = System.nanoTime() + timeout * 1_000_000_000L;
      // The push consumers receive on their own threads meanwhile.
      if (grpcConsumer != null) {
        GrpcLeg.receive(grpcConsumer, grpcResults, deadline);
        if (grpcResults.arrivals().missing() > 0) {
          System.err.println(
              "interop: java-grpc consumer is missing "
                  + grpcResults.arrivals().missing()
                  + " messages");
          status = 1;
        }
      }
      if (results != null && !results.arrivals().await(remaining(deadline))) {
        System.err.println(
            "interop: java consumer is missing " + results.arrivals().missing() + " messages");
        status = 1;
      }
      if (carrier != null && !carrier.arrivals().await(remaining(deadline))) {
        System.err.println(
            "interop: c carrier is missing " + carrier.arrivals().missing() + " messages");
        status = 1;
      }
    } finally {
      if (javaConsumer != null) {
        javaConsumer.shutdown();
      }
      if (carrierConsumer != null) {
        carrierConsumer.shutdown();
      }
      if (grpcConsumer != null) {
        grpcConsumer.close();
      }
      if (grpcResults != null) {
        grpcResults.close();
      }
      if (results != null) {
        results.close();
      }
      if (carrier != null) {
        carrier.close();
      }
      cipher.close();
    }
    return status;
  }

  private static long remaining(long deadline) {
    return Math.max(0, (deadline - System.nanoTime()) / 1_000_000_000L);
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
      }
      options.put(args[i].substring(2), args[i + 1]);
    }
    return options;
  }

  private static String required(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null) {
      throw new IllegalArgumentException("missing option --" + name);
    }
    return value;
  }

  private static List<String> list(String value) {
    return Arrays.stream(value.split(",")).filter(s -> !s.isEmpty()).toList();
  }
}
