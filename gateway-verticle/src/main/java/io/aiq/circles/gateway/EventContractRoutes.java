package io.aiq.circles.gateway;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.events.EventSchemas;
import io.vertx.ext.web.Router;
import java.util.regex.Pattern;

/**
 * The event contract for teams that consume the topics: the AsyncAPI document at {@code /asyncapi.yaml}
 * and, beside it, the JSON Schemas it references ({@code /contracts/schemas/<event>.v<N>.schema.json}),
 * all from the contracts jar, so the relative references resolve over HTTP as they do on the classpath.
 */
final class EventContractRoutes {
  /** Only schema file names: nothing else of the classpath is reachable through the path. */
  private static final Pattern SCHEMA_FILE = Pattern.compile("[a-z][a-z-]*\\.v[0-9]+\\.schema\\.json");

  private EventContractRoutes() {
  }

  static void mount(Router router) {
    router.get("/asyncapi.yaml").handler(ctx -> ctx.response().putHeader("Content-Type", "application/yaml")
        .sendFile("asyncapi.yaml"));
    router.get("/" + EventSchemas.FOLDER + ":schemaFile").handler(ctx -> {
      String file = ctx.pathParam("schemaFile");
      String resource = EventSchemas.FOLDER + file;
      if (!SCHEMA_FILE.matcher(file).matches()
          || EventContractRoutes.class.getClassLoader().getResource(resource) == null) {
        ApiResponses.refuse(ctx, ErrorCode.NOT_FOUND, "no event schema named '" + file + "' (see /asyncapi.yaml)");
        return;
      }
      ctx.response().putHeader("Content-Type", "application/schema+json").sendFile(resource);
    });
  }
}
