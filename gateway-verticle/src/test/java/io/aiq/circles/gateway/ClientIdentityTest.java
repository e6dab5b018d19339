package io.aiq.circles.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.config.ConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Who the rate limit takes a request to come from: X-Forwarded-For is believed only from trusted proxies. */
class ClientIdentityTest {
  private static final String XFF = "X-Forwarded-For";

  private static ClientIdentity trusting(String... proxies) {
    return new ClientIdentity(XFF, List.of(proxies));
  }

  @Test
  void without_trusted_proxies_the_header_is_never_read() {
    ClientIdentity id = new ClientIdentity(XFF, List.of());

    assertThat(id.effectiveHeader()).isEmpty();
    assertThat(id.resolve("198.51.100.7", List.of("203.0.113.1"))).isEqualTo("198.51.100.7");
  }

  @Test
  void without_a_header_name_trusted_proxies_change_nothing() {
    ClientIdentity id = new ClientIdentity("", List.of("10.0.0.0/8"));

    assertThat(id.effectiveHeader()).isEmpty();
    assertThat(id.resolve("10.1.1.1", List.of("203.0.113.1"))).isEqualTo("10.1.1.1");
  }

  @Test
  void a_caller_that_is_not_a_trusted_proxy_is_the_client_whatever_header_it_sends() {
    ClientIdentity id = trusting("10.0.0.0/8");

    assertThat(id.resolve("198.51.100.7", List.of("203.0.113.1"))).isEqualTo("198.51.100.7");
  }

  @Test
  void behind_a_trusted_proxy_the_address_it_appended_is_the_client() {
    ClientIdentity id = trusting("10.0.0.0/8");

    assertThat(id.resolve("10.2.3.4", List.of("203.0.113.1"))).isEqualTo("203.0.113.1");
  }

  @Test
  void addresses_a_client_forged_left_of_the_proxys_entry_are_never_taken() {
    ClientIdentity id = trusting("10.0.0.0/8");

    // the client sent "X-Forwarded-For: 192.0.2.99, 10.9.9.9"; the proxy appended the peer it saw
    assertThat(id.resolve("10.2.3.4", List.of("192.0.2.99, 10.9.9.9, 203.0.113.1"))).isEqualTo("203.0.113.1");
  }

  @Test
  void a_chain_of_trusted_proxies_is_skipped_from_the_right() {
    ClientIdentity id = trusting("10.0.0.0/8", "172.16.0.0/12");

    assertThat(id.resolve("10.0.0.5", List.of("192.0.2.99, 203.0.113.1, 172.16.4.4, 10.0.0.9")))
        .isEqualTo("203.0.113.1");
  }

  @Test
  void when_every_address_is_a_trusted_proxy_the_left_most_is_the_client() {
    ClientIdentity id = trusting("10.0.0.0/8");

    assertThat(id.resolve("10.0.0.5", List.of("10.7.7.7, 10.8.8.8"))).isEqualTo("10.7.7.7");
  }

  @Test
  void a_trusted_proxy_that_sends_no_header_is_the_client_itself() {
    ClientIdentity id = trusting("10.0.0.5");

    assertThat(id.resolve("10.0.0.5", List.of())).isEqualTo("10.0.0.5");
    assertThat(id.resolve("10.0.0.5", List.of(" , "))).isEqualTo("10.0.0.5");
  }

  @Test
  void several_header_lines_read_as_one_list_in_their_order() {
    ClientIdentity id = trusting("10.0.0.0/8");

    assertThat(id.resolve("10.0.0.5", List.of("192.0.2.99", "203.0.113.1, 10.1.1.1"))).isEqualTo("203.0.113.1");
    assertThat(id.resolve("10.0.0.5", List.of("192.0.2.99", "10.1.1.1"))).isEqualTo("192.0.2.99");
  }

  @Test
  void single_addresses_and_cidr_blocks_of_ipv4_match_exactly_their_range() {
    ClientIdentity id = trusting("192.0.2.10", "198.51.100.0/25");

    assertThat(id.trusts(ClientIdentity.parse("192.0.2.10"))).isTrue();
    assertThat(id.trusts(ClientIdentity.parse("192.0.2.11"))).isFalse();
    assertThat(id.trusts(ClientIdentity.parse("198.51.100.0"))).isTrue();
    assertThat(id.trusts(ClientIdentity.parse("198.51.100.127"))).isTrue();
    assertThat(id.trusts(ClientIdentity.parse("198.51.100.128"))).isFalse();
    assertThat(id.trusts(ClientIdentity.parse("2001:db8::1"))).isFalse();
    assertThat(trusting("0.0.0.0/0").trusts(ClientIdentity.parse("203.0.113.200"))).isTrue();
  }

  @Test
  void ipv6_blocks_match_their_range_and_addresses_are_written_one_way() {
    ClientIdentity id = trusting("2001:db8:aaaa::/48", "fd00::1");

    assertThat(id.trusts(ClientIdentity.parse("2001:db8:aaaa:1::9"))).isTrue();
    assertThat(id.trusts(ClientIdentity.parse("2001:db8:aaab::9"))).isFalse();
    assertThat(id.trusts(ClientIdentity.parse("fd00:0:0:0:0:0:0:1"))).isTrue();
    assertThat(id.trusts(ClientIdentity.parse("fd00::2"))).isFalse();
    assertThat(id.trusts(ClientIdentity.parse("10.0.0.1"))).isFalse();
    // one client, one bucket, however its address is spelled
    assertThat(id.resolve("2001:db8:aaaa::1", List.of("2001:0DB8:0000:0000:0000:0000:0000:0042")))
        .isEqualTo("2001:db8::42");
    assertThat(id.resolve("2001:0db8:0000::0099", List.of())).isEqualTo("2001:db8::99");
  }

  @Test
  void ipv4_mapped_ipv6_addresses_are_their_ipv4_address() {
    ClientIdentity id = trusting("10.0.0.0/8");

    assertThat(id.resolve("::ffff:10.1.2.3", List.of("::ffff:203.0.113.1"))).isEqualTo("203.0.113.1");
    assertThat(trusting("::ffff:10.0.0.0/104").trusts(ClientIdentity.parse("10.1.2.3"))).isTrue();
  }

  @Test
  void ports_brackets_and_quotes_around_an_address_are_read_through() {
    ClientIdentity id = trusting("10.0.0.0/8");

    assertThat(id.resolve("10.0.0.5", List.of("203.0.113.1:4711"))).isEqualTo("203.0.113.1");
    assertThat(id.resolve("10.0.0.5", List.of("[2001:db8::7]:4711"))).isEqualTo("2001:db8::7");
    assertThat(id.resolve("10.0.0.5", List.of("\"[2001:db8::8]\""))).isEqualTo("2001:db8::8");
    assertThat(id.resolve("10.0.0.5", List.of("203.0.113.1, 10.0.0.7:443"))).isEqualTo("203.0.113.1");
  }

  @Test
  void an_entry_that_is_no_address_is_never_trusted_and_names_the_client_as_written() {
    ClientIdentity id = trusting("10.0.0.0/8");

    assertThat(id.resolve("10.0.0.5", List.of("192.0.2.1, unknown"))).isEqualTo("unknown");
    assertThat(ClientIdentity.parse("unknown")).isNull();
    assertThat(ClientIdentity.parse("localhost")).as("never resolved through DNS").isNull();
    assertThat(ClientIdentity.parse("fe80::1%eth0")).isNull();
    assertThat(ClientIdentity.parse("[2001:db8::1")).isNull();
    assertThat(ClientIdentity.parse("203.0.113.1:http")).isNull();
  }

  @Test
  void a_peer_of_unknown_address_is_one_client_named_unknown() {
    assertThat(trusting("10.0.0.0/8").resolve(null, List.of("203.0.113.1"))).isEqualTo("unknown");
  }

  @Test
  void entries_that_are_neither_addresses_nor_blocks_are_refused_at_start() {
    for (String bad : List.of("10.0.0.0/33", "2001:db8::/129", "10.0.0.0/-1", "10.0.0.0/x", "proxy.example.com",
        "10.0.0", "")) {
      assertThatThrownBy(() -> trusting(bad)).as(bad).isInstanceOf(ConfigException.class)
          .hasMessageContaining("rate-limit.trusted-proxies");
    }
  }
}
