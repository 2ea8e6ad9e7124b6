/**
 * Support classes shared by mqseal's two RocketMQ integrations, {@code mqseal-rocketmq} (remoting
 * client) and {@code mqseal-rocketmq5} (gRPC client). They depend on no RocketMQ client. They are
 * public only so that both modules can use them; applications use the integrations instead.
 */
package io.mqseal.rocketmq.common;
