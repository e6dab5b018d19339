package io.aiq.circles.charts;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.Role;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Webhooks in the chart: the webhooks role runs in the results pods with a signing key from a Secret
 * (generated and kept by Helm unless given), the API pods get the key too (they accept callbackUrls
 * only with one), no other pod does, and only the webhook pods may call public addresses on 80/443.
 */
class WebhooksSettingsTest {
  private static final String WEBHOOKS_SECRET = Rendered.RELEASE + "-aiq-circles-webhooks";

  @Test
  void the_results_pods_run_the_webhooks_role_with_a_generated_key_helm_keeps() throws Exception {
    Rendered r = Rendered.with();
    Deployment results = r.deployment("results");

    AppConfig config = Rendered.appConfig(r.settings(results));

    assertThat(config.roles()).contains(Role.RESULTS, Role.WEBHOOKS);
    assertThat(config.webhooks().secret()).startsWith("whsec_");
    assertThat(config.webhooks().allowPrivateTargets()).isFalse();
    assertThat(config.webhooks().maxAttempts()).isEqualTo(8);
    Secret secret = r.named(Secret.class, WEBHOOKS_SECRET).orElseThrow();
    assertThat(secret.getMetadata().getAnnotations()).containsEntry("helm.sh/resource-policy", "keep");
    assertThat(secretRef(r.deployment("api"))).contains(WEBHOOKS_SECRET);
    assertThat(secretRef(r.deployment("inference"))).as("inference neither sends nor accepts webhooks").isEmpty();
  }

  @Test
  void an_existing_secret_and_the_settings_in_values_reach_the_application() throws Exception {
    Rendered r = Rendered.with(List.of(), Map.of("webhooks.existingSecret", "my-hooks",
        "webhooks.existingSecretKey", "key", "config.webhooks.max-attempts", 3,
        "config.webhooks.allow-private-targets", true, "config.webhooks.timeout-ms", 2500));

    assertThat(r.named(Secret.class, WEBHOOKS_SECRET)).isEmpty();
    for (String role : List.of("api", "results")) {
      EnvVar env = Rendered.app(r.deployment(role)).getEnv().stream()
          .filter(e -> e.getName().equals("AIQ_WEBHOOKS_SECRET")).findFirst().orElseThrow();
      assertThat(env.getValueFrom().getSecretKeyRef().getName()).isEqualTo("my-hooks");
      assertThat(env.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("key");
    }
    AppConfig config = Rendered.appConfig(r.settings(r.deployment("results")));
    assertThat(config.webhooks().maxAttempts()).isEqualTo(3);
    assertThat(config.webhooks().allowPrivateTargets()).isTrue();
    assertThat(config.webhooks().timeoutMs()).isEqualTo(2500);
  }

  @Test
  void only_the_webhook_pods_may_reach_public_addresses_on_80_and_443() {
    Rendered r = Rendered.with("ci/all-on-values.yaml");

    NetworkPolicy webhooks = r.named(NetworkPolicy.class, WEBHOOKS_SECRET).orElseThrow();

    assertThat(webhooks.getSpec().getPodSelector().getMatchLabels())
        .containsEntry("app.kubernetes.io/component", "results");
    assertThat(webhooks.getSpec().getPolicyTypes()).containsExactly("Egress");
    NetworkPolicyEgressRule rule = webhooks.getSpec().getEgress().get(0);
    assertThat(rule.getPorts()).extracting(p -> p.getPort().getIntVal()).containsExactly(80, 443);
    assertThat(rule.getTo().get(0).getIpBlock().getCidr()).isEqualTo("0.0.0.0/0");
    assertThat(rule.getTo().get(0).getIpBlock().getExcept()).contains("10.0.0.0/8", "172.16.0.0/12",
        "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8", "100.64.0.0/10");
  }

  @Test
  void in_all_in_one_the_single_deployment_sends_webhooks() throws Exception {
    Rendered r = Rendered.with("ci/all-in-one-values.yaml");
    Deployment d = r.all(Deployment.class).get(0);

    assertThat(Rendered.appConfig(r.settings(d)).roles()).contains(Role.WEBHOOKS, Role.GATEWAY);
  }

  private static Optional<String> secretRef(Deployment d) {
    return Rendered.app(d).getEnv().stream().filter(e -> e.getName().equals("AIQ_WEBHOOKS_SECRET"))
        .map(e -> e.getValueFrom().getSecretKeyRef().getName()).findFirst();
  }
}
