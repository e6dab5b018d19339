package io.aiq.circles.app;

import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import com.hazelcast.config.FileSystemYamlConfig;
import com.hazelcast.config.JoinConfig;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigException;
import io.aiq.circles.messaging.EventTracing;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.tracing.opentelemetry.OpenTelemetryOptions;
import io.vertx.tracing.opentelemetry.OpenTelemetryTracingFactory;
import java.io.FileNotFoundException;
import java.util.EnumSet;

/**
 * Builds the Vert.x instance of a process: with metrics into the given registry, and, when
 * {@code cluster.enabled}, as a member of a Hazelcast cluster so the event bus reaches the roles of
 * other processes: Hazelcast on {@code cluster.port}, the event bus on {@code cluster.event-bus-port}.
 * Unclustered (the default) it listens on nothing but what the verticles open.
 */
public final class VertxFactory {
  private VertxFactory() {
  }

  public static Future<Vertx> create(AppConfig config, PrometheusMeterRegistry registry) {
    return create(config, registry, null);
  }

  /**
   * @param tracing when enabled, Vert.x traces HTTP requests, event bus messages and PostgreSQL
   *     statements with it, and the events get publish and process spans ({@link EventTracing})
   */
  public static Future<Vertx> create(AppConfig config, PrometheusMeterRegistry registry, Tracing tracing) {
    VertxOptions options = new VertxOptions().setMetricsOptions(metricsOptions());
    VertxBuilder builder = Vertx.builder().withMetrics(new MicrometerMetricsFactory(registry));
    if (tracing != null && tracing.enabled()) {
      options.setTracingOptions(new OpenTelemetryOptions());
      builder.withTracer(new OpenTelemetryTracingFactory(tracing.openTelemetry()));
    }
    return build(config, builder, options).onSuccess(vertx -> {
      if (tracing != null && tracing.enabled()) {
        EventTracing.install(vertx, tracing.openTelemetry());
      }
    });
  }

  private static Future<Vertx> build(AppConfig config, VertxBuilder builder, VertxOptions options) {
    if (!config.cluster().enabled()) {
      return Future.succeededFuture(builder.with(options).build());
    }
    AppConfig.Cluster cluster = config.cluster();
    // A fixed port, advertised as is: what the container declares and a NetworkPolicy opens (Vert.x's
    // default is a random port, which a policy-enforcing network drops)
    options.getEventBusOptions().setHost(cluster.host()).setClusterPublicHost(cluster.host()).setPort(cluster.eventBusPort());
    if (cluster.eventBusPort() > 0) {
      options.getEventBusOptions().setClusterPublicPort(cluster.eventBusPort());
    }
    return builder.with(options).withClusterManager(new HazelcastClusterManager(hazelcast(cluster))).buildClustered();
  }

  /** A plain instance with metrics, for a process that is not clustered (and for tests). */
  public static Vertx local(PrometheusMeterRegistry registry) {
    return Vertx.builder().with(new VertxOptions().setMetricsOptions(metricsOptions()))
        .withMetrics(new MicrometerMetricsFactory(registry)).build();
  }

  private static MicrometerMetricsOptions metricsOptions() {
    return new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
        .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE, Label.EB_ADDRESS,
            Label.POOL_TYPE, Label.POOL_NAME));
  }

  static Config hazelcast(AppConfig.Cluster cluster) {
    if (!cluster.configFile().isBlank()) {
      try {
        String file = cluster.configFile();
        return file.endsWith(".yaml") || file.endsWith(".yml") ? new FileSystemYamlConfig(file) : new FileSystemXmlConfig(file);
      } catch (FileNotFoundException e) {
        throw new ConfigException("cluster.config-file: " + e.getMessage());
      }
    }
    // Vert.x's own defaults (the maps and multimaps its event bus needs), with our network
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(cluster.name());
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.local.localAddress", cluster.host());
    config.getNetworkConfig().setPort(cluster.port()).setPortAutoIncrement(true);
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (cluster.kubernetesServiceDns().isEmpty()) {
      join.getTcpIpConfig().setEnabled(true).setMembers(cluster.members());
    } else {
      // DNS lookup of a headless Service: needs no Kubernetes API access (no RBAC), only the
      // Service with publishNotReadyAddresses, so members find each other before they are ready
      join.getTcpIpConfig().setEnabled(false);
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", cluster.kubernetesServiceDns())
          .setProperty("service-port", String.valueOf(cluster.port()));
    }
    return config;
  }
}
