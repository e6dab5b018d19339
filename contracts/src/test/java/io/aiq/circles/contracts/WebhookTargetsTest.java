package io.aiq.circles.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Where a webhook may go: every address a client could use to reach into the service's own network is
 * refused, in every spelling Java's resolver can return, and public addresses are not.
 */
class WebhookTargetsTest {

  @ParameterizedTest(name = "{0} is refused")
  @ValueSource(strings = {
      // unspecified
      "0.0.0.0", "0.1.2.3", "::",
      // loopback
      "127.0.0.1", "127.255.255.254", "::1",
      // private
      "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.0.1", "192.168.255.255",
      "fc00::1", "fd12:3456:789a::1", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      // link-local, the cloud metadata address among them
      "169.254.0.1", "169.254.169.254", "169.254.255.255", "fe80::1", "febf::1",
      // site-local (deprecated, still routed in some networks)
      "fec0::1",
      // shared CGNAT space
      "100.64.0.1", "100.127.255.255",
      // multicast, reserved, broadcast
      "224.0.0.1", "239.255.255.255", "ff02::1", "ff0e::1", "240.0.0.1", "255.255.255.255",
      // IPv4-compatible, IPv4-mapped and NAT64 forms of refused IPv4 addresses
      "::127.0.0.1", "::10.0.0.1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254",
      "::ffff:192.168.1.1", "::ffff:0.0.0.0", "64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1"})
  void a_non_public_address_is_refused(String address) throws Exception {
    assertThat(WebhookTargets.refusal(InetAddress.getByName(address))).as(address).isNotNull();
  }

  @ParameterizedTest(name = "{0} is allowed")
  @ValueSource(strings = {
      "8.8.8.8", "1.1.1.1", "93.184.215.14", "172.15.255.255", "172.32.0.1", "192.167.255.255", "192.169.0.1",
      "169.253.255.255", "169.255.0.1", "100.63.255.255", "100.128.0.1", "11.0.0.1", "223.255.255.255",
      "2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "fbff::1", "fe7f::1"})
  void a_public_address_is_allowed(String address) throws Exception {
    assertThat(WebhookTargets.refusal(InetAddress.getByName(address))).as(address).isNull();
  }

  @Test
  void the_metadata_address_is_named_as_such() throws Exception {
    assertThat(WebhookTargets.refusal(InetAddress.getByName("169.254.169.254"))).contains("metadata");
  }

  @ParameterizedTest(name = "{0} is not a callback URL")
  @ValueSource(strings = {"", " ", "example.com/hook", "/hook", "ftp://example.com/hook", "file:///etc/passwd",
      "gopher://example.com", "javascript:alert(1)", "http://", "http:///hook", "https://user:pw@example.com/hook",
      "https://example.com/hook#frag", "http://exa mple.com/"})
  void a_malformed_url_is_refused_before_any_lookup(String url) {
    assertThatThrownBy(() -> WebhookTargets.parse(url)).isInstanceOf(ApiException.class)
        .satisfies(e -> assertThat(((ApiException) e).code()).isEqualTo(ErrorCode.INVALID_CALLBACK_URL));
  }

  @Test
  void a_url_longer_than_2048_characters_is_refused() {
    String url = "https://example.com/" + "a".repeat(WebhookTargets.MAX_URL_LENGTH);
    assertThatThrownBy(() -> WebhookTargets.parse(url)).isInstanceOf(ApiException.class).hasMessageContaining("2048");
  }

  @Test
  void an_absolute_http_or_https_url_with_a_host_parses_with_its_port() {
    assertThat(WebhookTargets.port(WebhookTargets.parse("https://example.com/hook?x=1"))).isEqualTo(443);
    assertThat(WebhookTargets.port(WebhookTargets.parse("http://example.com/hook"))).isEqualTo(80);
    assertThat(WebhookTargets.port(WebhookTargets.parse("HTTP://example.com:8080/hook"))).isEqualTo(8080);
    assertThat(WebhookTargets.host(WebhookTargets.parse("http://[2606:4700::1]:81/"))).isEqualTo("2606:4700::1");
  }

  @ParameterizedTest(name = "{0} is refused")
  @ValueSource(strings = {"http://127.0.0.1/hook", "http://localhost:8080/hook", "http://[::1]/hook",
      "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "http://[::ffff:127.0.0.1]/",
      "http://0.0.0.0:80/", "http://2130706433/", "http://0x7f.1/"})
  void a_url_whose_host_is_or_resolves_to_a_refused_address_is_refused(String url) {
    assertThatThrownBy(() -> WebhookTargets.check(url, false)).isInstanceOf(ApiException.class)
        .satisfies(e -> assertThat(((ApiException) e).code()).isEqualTo(ErrorCode.INVALID_CALLBACK_URL));
  }

  @Test
  void private_targets_are_allowed_when_configured() {
    assertThat(WebhookTargets.resolve(WebhookTargets.parse("http://127.0.0.1:9/hook"), true)).isNotEmpty();
  }

  @Test
  void a_host_that_does_not_resolve_is_refused() {
    assertThatThrownBy(() -> WebhookTargets.check("http://no-such-host.invalid/hook", true))
        .isInstanceOf(ApiException.class).hasMessageContaining("does not resolve");
  }
}
