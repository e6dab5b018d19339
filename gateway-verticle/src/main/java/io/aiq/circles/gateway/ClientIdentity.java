package io.aiq.circles.gateway;

import io.aiq.circles.config.ConfigException;
import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Who a request comes from, for the rate limit: the TCP peer, unless the peer is a trusted proxy
 * ({@code rate-limit.trusted-proxies}). Then the forwarding header ({@code rate-limit.client-header},
 * e.g. X-Forwarded-For, every line of it in order) is read from right to left, trusted proxies are
 * skipped, and the first address that is not one is the client: each proxy appends the peer it saw,
 * so everything right of that address was written by proxies we trust, and everything left of it may
 * have been written by the client itself. When every address is a trusted proxy, the left-most is
 * taken. Without trusted proxies the header is never read.
 *
 * <p>Addresses are parsed as literals only (never resolved through DNS) and written in their
 * canonical form, so one client has one bucket however its address is spelled. An entry that is no
 * address at all ({@code unknown}, an obfuscated name) is never a trusted proxy and, if it is where
 * the walk stops, names the client as written.
 */
final class ClientIdentity {
  private final String header;
  private final List<IpSubnetFilterRule> trusted;

  /**
   * @param header the forwarding header; blank: none
   * @param trustedProxies IP addresses or CIDR blocks, IPv4 or IPv6
   * @throws ConfigException for an entry that is neither
   */
  ClientIdentity(String header, List<String> trustedProxies) {
    this.header = header == null ? "" : header.trim();
    List<IpSubnetFilterRule> rules = new ArrayList<>();
    for (String entry : trustedProxies) {
      rules.add(rule(entry.trim()));
    }
    this.trusted = List.copyOf(rules);
  }

  /** The header to read, or blank when the header cannot matter (none named, or no proxy trusted). */
  String effectiveHeader() {
    return trusted.isEmpty() ? "" : header;
  }

  boolean trusts(InetAddress address) {
    InetSocketAddress socket = new InetSocketAddress(normalize(address), 0);
    for (IpSubnetFilterRule rule : trusted) {
      if (rule.matches(socket)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The client's identity.
   *
   * @param peer the TCP peer's address (null when unknown)
   * @param forwarded the values of the forwarding header, one per header line, in the order received
   */
  String resolve(String peer, List<String> forwarded) {
    InetAddress peerAddress = peer == null ? null : parse(peer);
    String peerIdentity = peer == null ? "unknown" : peerAddress == null ? peer.trim() : canonical(peerAddress);
    if (effectiveHeader().isEmpty() || peerAddress == null || !trusts(peerAddress)) {
      return peerIdentity;
    }
    List<String> hops = new ArrayList<>();
    for (String value : forwarded) {
      for (String hop : value.split(",")) {
        if (!hop.isBlank()) {
          hops.add(hop.trim());
        }
      }
    }
    if (hops.isEmpty()) {
      return peerIdentity;
    }
    for (int i = hops.size() - 1; i >= 0; i--) {
      InetAddress address = parse(hops.get(i));
      if (address == null || !trusts(address)) {
        return address == null ? hops.get(i) : canonical(address);
      }
    }
    InetAddress first = parse(hops.get(0));
    return canonical(first);
  }

  private static IpSubnetFilterRule rule(String entry) {
    int slash = entry.indexOf('/');
    InetAddress address = literal(slash < 0 ? entry : entry.substring(0, slash));
    if (address == null) {
      throw new ConfigException("rate-limit.trusted-proxies: '" + entry + "' is not an IP address or a CIDR block");
    }
    // written as IPv6 (an IPv4-mapped block such as ::ffff:10.0.0.0/104 too): the prefix counts 128 bits
    int bits = entry.indexOf(':') >= 0 ? 128 : 32;
    int prefix = bits;
    if (slash >= 0) {
      try {
        prefix = Integer.parseInt(entry.substring(slash + 1));
      } catch (NumberFormatException e) {
        prefix = -1;
      }
    }
    address = normalize(address);
    if (bits == 128 && address instanceof Inet4Address) {
      prefix -= 96;
      bits = 32;
    }
    if (prefix < 0 || prefix > bits) {
      throw new ConfigException("rate-limit.trusted-proxies: '" + entry + "' has a prefix length outside the address's bits");
    }
    return new IpSubnetFilterRule(address, prefix, IpFilterRuleType.ACCEPT);
  }

  /**
   * An address as a header or a socket writes it: {@code 192.0.2.1}, {@code 2001:db8::1}, with a port
   * ({@code 192.0.2.1:4711}, {@code [2001:db8::1]:4711}), in brackets or quotes (RFC 7239's form); null
   * when it is no IP literal.
   */
  static InetAddress parse(String written) {
    String s = written.trim();
    if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
      s = s.substring(1, s.length() - 1).trim();
    }
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0) {
        return null;
      }
      String rest = s.substring(close + 1);
      if (!rest.isEmpty() && !rest.matches(":\\d{1,5}")) {
        return null;
      }
      s = s.substring(1, close);
    } else if (s.indexOf(':') > 0 && s.indexOf(':') == s.lastIndexOf(':')) {
      // one colon: an IPv4 address with a port (an IPv6 address has at least two)
      String port = s.substring(s.indexOf(':') + 1);
      if (!port.matches("\\d{1,5}")) {
        return null;
      }
      s = s.substring(0, s.indexOf(':'));
    }
    InetAddress address = literal(s);
    return address == null ? null : normalize(address);
  }

  private static InetAddress literal(String s) {
    // a zone id (fe80::1%eth0) names a local interface, not a client
    if (s.isEmpty() || s.indexOf('%') >= 0) {
      return null;
    }
    return NetUtil.createInetAddressFromIpAddressString(s);
  }

  /** IPv4-mapped IPv6 addresses ({@code ::ffff:192.0.2.1}) are the IPv4 address they carry. */
  private static InetAddress normalize(InetAddress address) {
    if (address instanceof Inet6Address) {
      byte[] b = address.getAddress();
      boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
      for (int i = 0; i < 10 && mapped; i++) {
        mapped = b[i] == 0;
      }
      if (mapped) {
        try {
          return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
        } catch (UnknownHostException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return address;
  }

  private static String canonical(InetAddress address) {
    return NetUtil.toAddressString(address);
  }
}
