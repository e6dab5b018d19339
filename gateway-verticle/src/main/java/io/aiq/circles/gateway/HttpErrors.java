package io.aiq.circles.gateway;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.config.AppConfig;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every HTTP server of the service does with errors nobody handled: the router's own (a path
 * that does not decode, a request without Host, a method not allowed, a failure in a handler) and
 * the HTTP codec's (a request line or headers too long, a request that is not HTTP). Each becomes
 * the API's JSON error with its status; a server error says no more than "internal error", since
 * exception text is for the log, not for clients.
 */
public final class HttpErrors {
  private static final Logger LOG = LoggerFactory.getLogger(HttpErrors.class);
  /** Statuses the router or the framework may fail a request with. */
  private static final int[] STATUSES = {400, 401, 403, 404, 405, 406, 408, 409, 411, 413, 414, 415, 416, 417, 422,
      429, 431, 500, 501, 502, 503, 504};

  private HttpErrors() {
  }

  /**
   * Options every server of the service shares: connections that send and receive nothing for
   * {@code http.idle-timeout-seconds} are closed.
   */
  public static HttpServerOptions serverOptions(AppConfig.Http http) {
    return new HttpServerOptions().setHost(http.host()).setPort(http.port()).setIdleTimeout(http.idleTimeoutSeconds());
  }

  /** JSON errors for every status the router can produce; call after the routes are added. */
  public static void install(Router router) {
    for (int status : STATUSES) {
      router.errorHandler(status, ctx -> {
        if (status >= 500) {
          LOG.error("unhandled failure on {} {}", ctx.request().method(), ctx.request().path(), ctx.failure());
        }
        String message = switch (status) {
          case 404 -> "no such resource: " + ctx.request().method() + " " + safePath(ctx.request());
          case 405 -> ctx.request().method() + " is not allowed on " + safePath(ctx.request());
          case 413 -> "the request body is too large";
          case 400 -> ctx.request().getHeader("Host") == null && ctx.request().authority() == null
              ? "the request has no Host header" : "the request is malformed (its path, query or headers do not decode)";
          default -> status >= 500 ? "internal error" : HttpResponseStatus.valueOf(status).reasonPhrase().toLowerCase(Locale.ROOT);
        };
        ApiResponses.error(ctx, ErrorCode.forStatus(status), message);
      });
    }
  }

  /**
   * For {@code HttpServer.invalidRequestHandler}: a request the HTTP codec could not read gets the
   * status the default handler would give (414, 431 or 400) with a JSON body, then the connection
   * is closed, since what follows on it cannot be trusted to be the next request.
   */
  public static void invalidRequest(HttpServerRequest request) {
    DecoderResult result = request.decoderResult();
    Throwable cause = result == null ? null : result.cause();
    ErrorCode code = ErrorCode.BAD_REQUEST;
    String message = "the request is not valid HTTP";
    if (cause instanceof TooLongFrameException) {
      String text = String.valueOf(cause.getMessage());
      if (text.contains("header")) {
        code = ErrorCode.HEADERS_TOO_LARGE;
        message = "the request headers are too large";
      } else {
        code = ErrorCode.URI_TOO_LONG;
        message = "the request line is too long";
      }
    }
    HttpServerResponse response = request.response();
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(code.status()).putHeader("Content-Type", "application/json").putHeader("Connection", "close")
        .end(code.body(message).toBuffer()).onComplete(ar -> request.connection().close());
  }

  /** The path as the client sent it, cut short: it is echoed in a message. */
  private static String safePath(HttpServerRequest request) {
    String p = request.path();
    if (p == null) {
      return "";
    }
    return p.length() > 200 ? p.substring(0, 200) + "..." : p;
  }
}
