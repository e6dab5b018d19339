package io.aiq.circles.app;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.Role;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The OpenTelemetry SDK of a process, when {@code tracing.otlp-endpoint} is set: spans batched and
 * exported over OTLP http/protobuf (sent with the JDK's HttpClient), W3C trace context propagation,
 * {@code service.name=aiq-circles} with the process's roles in {@code aiq.roles}, and
 * {@code tracing.sample-ratio} of new traces sampled. Off, there is no SDK at all: Vert.x runs without
 * a tracer and the events carry the trace contexts they always did.
 */
public final class Tracing implements AutoCloseable {
  static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
  static final AttributeKey<String> ROLES = AttributeKey.stringKey("aiq.roles");
  private static final String OTLP_TRACES_PATH = "/v1/traces";

  private final OpenTelemetrySdk sdk;
  private final String description;

  private Tracing(OpenTelemetrySdk sdk, String description) {
    this.sdk = sdk;
    this.description = description;
  }

  /** What the configuration asks for: OTLP export when {@code tracing.otlp-endpoint} is set, else off. */
  public static Tracing fromConfig(AppConfig config) {
    AppConfig.Tracing tracing = config.tracing();
    if (!tracing.enabled()) {
      return new Tracing(null, "off (set tracing.otlp-endpoint / AIQ_TRACING_OTLP_ENDPOINT to export spans)");
    }
    String endpoint = tracesEndpoint(tracing.otlpEndpoint());
    SpanExporter exporter = OtlpHttpSpanExporter.builder().setEndpoint(endpoint).build();
    return new Tracing(sdk(config, BatchSpanProcessor.builder(exporter).build(), tracing.sampleRatio()),
        "on, exporting OTLP to " + endpoint + ", sample ratio " + tracing.sampleRatio());
  }

  /**
   * Every span handed to {@code exporter} as soon as it ends, whatever {@code tracing.otlp-endpoint}
   * says: the seam for a test's in-memory exporter.
   */
  public static Tracing exportingTo(SpanExporter exporter, AppConfig config) {
    return new Tracing(sdk(config, SimpleSpanProcessor.create(exporter), config.tracing().sampleRatio()),
        "on, exporting to " + exporter);
  }

  private static OpenTelemetrySdk sdk(AppConfig config, SpanProcessor processor, double sampleRatio) {
    String roles = config.roles().stream().map(Role::wire).collect(Collectors.joining(","));
    Resource resource = Resource.getDefault().merge(Resource.create(Attributes.of(SERVICE_NAME, "aiq-circles",
        ROLES, roles)));
    SdkTracerProvider provider = SdkTracerProvider.builder().setResource(resource).addSpanProcessor(processor)
        .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(sampleRatio))).build();
    // not registered as the global instance: several apps (tests) may run in one JVM, each with its own
    return OpenTelemetrySdk.builder().setTracerProvider(provider)
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
  }

  /** The collector's base URL as the user gives it ({@code http://host:4318}), or the full traces URL. */
  static String tracesEndpoint(String endpoint) {
    String base = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
    return base.endsWith(OTLP_TRACES_PATH) ? base : base + OTLP_TRACES_PATH;
  }

  public boolean enabled() {
    return sdk != null;
  }

  /** The SDK, or null when tracing is off. */
  public OpenTelemetry openTelemetry() {
    return sdk;
  }

  /** For the start-up log: off, or where spans go. */
  @Override
  public String toString() {
    return description;
  }

  /** Exports what is still buffered (up to 10 s), then stops the SDK. */
  @Override
  public void close() {
    if (sdk != null) {
      sdk.shutdown().join(10, TimeUnit.SECONDS);
    }
  }
}
