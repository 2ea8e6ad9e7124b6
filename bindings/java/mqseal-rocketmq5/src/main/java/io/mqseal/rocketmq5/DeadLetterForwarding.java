package io.mqseal.rocketmq5;

import apache.rocketmq.v2.Code;
import apache.rocketmq.v2.ForwardMessageToDeadLetterQueueResponse;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.rocketmq.client.apis.consumer.PushConsumer;
import org.apache.rocketmq.client.apis.message.MessageView;
import org.apache.rocketmq.client.java.message.MessageViewImpl;

/**
 * Moves one delivered message to the consumer group's dead-letter queue at once, through the
 * proxy's {@code ForwardMessageToDeadLetterQueue} RPC.
 *
 * <p>The client offers no public API for this; it calls the RPC itself only for FIFO messages that
 * ran out of attempts. This class calls the same method of the client's package-private {@code
 * PushConsumerImpl} (rocketmq-client-java 5.2.0) through reflection. The proxy (RocketMQ 5.3.3) has the broker copy the
 * stored message to {@code %DLQ%<group>}, so the body and properties arrive unchanged, and then
 * acknowledges the original.
 */
final class DeadLetterForwarding {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private DeadLetterForwarding() {}

  /**
   * Forwards {@code view} and returns null on success, or why it failed, for the log. Failures are
   * returned rather than thrown, so the caller can fall back to redelivery.
   */
  static String forward(PushConsumer consumer, MessageView view) {
    if (consumer == null) {
      return "no push consumer is attached to the listener yet";
    }
    if (!(view instanceof MessageViewImpl)) {
      return "the message view is a " + view.getClass().getName() + ", not the client's own";
    }
    try {
      Method method =
          consumer.getClass().getMethod("forwardMessageToDeadLetterQueue", MessageViewImpl.class);
      method.setAccessible(true);
      Future<?> future = (Future<?>) method.invoke(consumer, view);
      ForwardMessageToDeadLetterQueueResponse response =
          (ForwardMessageToDeadLetterQueueResponse)
              future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      Code code = response.getStatus().getCode();
      if (code != Code.OK) {
        return "the proxy answered " + code + " (" + response.getStatus().getMessage() + ")";
      }
      return null;
    } catch (NoSuchMethodException e) {
      return "the push consumer " + consumer.getClass().getName() + " cannot forward messages";
    } catch (IllegalAccessException | InvocationTargetException e) {
      return "forwarding failed: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted while forwarding";
    } catch (ExecutionException e) {
      return "forwarding failed: " + e.getCause();
    } catch (TimeoutException e) {
      return "the proxy did not answer within " + TIMEOUT.toSeconds() + " s";
    } catch (LinkageError | RuntimeException e) {
      // A client whose internals differ from 5.2.0 ends up here.
      return "forwarding failed: " + e;
    }
  }
}
