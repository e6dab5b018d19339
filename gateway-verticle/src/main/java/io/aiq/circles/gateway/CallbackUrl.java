package io.aiq.circles.gateway;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.WebhookTargets;

/**
 * The webhook an upload asks for: {@code ?callbackUrl=} or the form field {@code callbackUrl}, checked
 * by {@link WebhookTargets} before anything of the upload is stored.
 */
final class CallbackUrl {
  static final String PARAM = "callbackUrl";

  private CallbackUrl() {
  }

  /**
   * The URL to carry to ingest, or null when none was given. Blocking (the host is resolved): run
   * off the event loop.
   *
   * @throws ApiException 400 {@code webhooks_disabled} when webhooks are off, 400
   *     {@code invalid_callback_url} for a URL that is malformed, given twice differently, or aimed at a
   *     refused address
   */
  static String checked(String fromQuery, String fromForm, AppConfig.Webhooks webhooks) {
    String url = fromQuery != null ? fromQuery : fromForm;
    if (url == null) {
      return null;
    }
    if (fromQuery != null && fromForm != null && !fromQuery.equals(fromForm)) {
      throw new ApiException(ErrorCode.INVALID_CALLBACK_URL,
          "callbackUrl is given twice (query and form) with different values");
    }
    if (!webhooks.enabled()) {
      throw new ApiException(ErrorCode.WEBHOOKS_DISABLED,
          "webhooks are not enabled on this deployment (webhooks.secret is not set); upload without callbackUrl");
    }
    return WebhookTargets.check(url, webhooks.allowPrivateTargets()).toString();
  }
}
