package io.aiq.circles.contracts;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

/**
 * The one rule for where a webhook may be sent ({@code callbackUrl}), applied by the gateway before an
 * upload is stored and again by the webhooks role before every attempt (a name's addresses may have
 * changed in between). A client must not be able to make the service call into its own network: a
 * target is refused when any address its host resolves to is loopback, unspecified, private
 * (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 with the cloud metadata address
 * 169.254.169.254, fe80::/10), shared CGNAT space (100.64/10), multicast, or one of those in an
 * IPv4-mapped, IPv4-compatible or NAT64 (64:ff9b::/96) IPv6 form; unless {@code webhooks.allow-private-targets} is on.
 */
public final class WebhookTargets {
  public static final int MAX_URL_LENGTH = 2048;

  private WebhookTargets() {
  }

  /**
   * The URL's form alone, without resolving anything: absolute, {@code http} or {@code https}, a host,
   * no user info, at most {@link #MAX_URL_LENGTH} characters.
   *
   * @throws ApiException {@link ErrorCode#INVALID_CALLBACK_URL} saying what is wrong
   */
  public static URI parse(String url) {
    if (url == null || url.isBlank()) {
      throw invalid("callbackUrl is empty");
    }
    if (url.length() > MAX_URL_LENGTH) {
      throw invalid("callbackUrl is longer than " + MAX_URL_LENGTH + " characters");
    }
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw invalid("callbackUrl is not a URL: " + e.getReason());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))) {
      throw invalid("callbackUrl must be an absolute http:// or https:// URL");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw invalid("callbackUrl has no host");
    }
    if (uri.getRawUserInfo() != null) {
      // credentials in a URL end up in logs and in the job's JSON
      throw invalid("callbackUrl must not carry user info (user:password@)");
    }
    if (uri.getRawFragment() != null) {
      throw invalid("callbackUrl must not have a fragment (#...)");
    }
    return uri;
  }

  /** The port the URL names, or its scheme's. */
  public static int port(URI uri) {
    return uri.getPort() > 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
  }

  /** The host without the brackets of an IPv6 literal. */
  public static String host(URI uri) {
    String h = uri.getHost();
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }

  /**
   * Resolves the URL's host and checks every address. Blocking (a DNS lookup): never on an event loop.
   *
   * @return the addresses, all allowed; a sender connects to one of these, not to a fresh lookup
   * @throws ApiException {@link ErrorCode#INVALID_CALLBACK_URL} for a host that does not resolve or
   *     has a refused address
   */
  public static List<InetAddress> resolve(URI uri, boolean allowPrivateTargets) {
    String host = host(uri);
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw invalid("callbackUrl's host " + host + " does not resolve");
    }
    if (!allowPrivateTargets) {
      for (InetAddress a : addresses) {
        String why = refusal(a);
        if (why != null) {
          throw invalid("callbackUrl's host " + host + " resolves to " + a.getHostAddress() + ", " + why
              + "; webhooks go to public addresses only");
        }
      }
    }
    return List.of(addresses);
  }

  /** {@link #parse} then {@link #resolve}: the whole check of a client's URL. Blocking. */
  public static URI check(String url, boolean allowPrivateTargets) {
    URI uri = parse(url);
    resolve(uri, allowPrivateTargets);
    return uri;
  }

  /** Why this address is no place for a webhook, or null when it is a public unicast address. */
  public static String refusal(InetAddress address) {
    if (address instanceof Inet6Address v6) {
      byte[] b = v6.getAddress();
      InetAddress embedded = embeddedIpv4(b);
      if (embedded != null) {
        String why = refusal(embedded);
        return why == null ? null : why + " (as IPv6 " + v6.getHostAddress() + ")";
      }
      if (v6.isAnyLocalAddress()) {
        return "an unspecified address";
      }
      if (v6.isLoopbackAddress()) {
        return "a loopback address";
      }
      if (v6.isLinkLocalAddress() || (b[0] == (byte) 0xfe && (b[1] & 0xc0) == 0x80)) {
        return "a link-local address";
      }
      if (v6.isSiteLocalAddress()) {
        // fec0::/10, deprecated but still routed inside some networks
        return "a site-local address";
      }
      if ((b[0] & 0xfe) == 0xfc) {
        return "a private (unique local, fc00::/7) address";
      }
      if (v6.isMulticastAddress()) {
        return "a multicast address";
      }
      return null;
    }
    byte[] b = address.getAddress();
    int a0 = b[0] & 0xff;
    int a1 = b[1] & 0xff;
    if (a0 == 0) {
      return "an unspecified address (0.0.0.0/8)";
    }
    if (a0 == 127) {
      return "a loopback address";
    }
    if (a0 == 10 || (a0 == 172 && a1 >= 16 && a1 <= 31) || (a0 == 192 && a1 == 168)) {
      return "a private address";
    }
    if (a0 == 169 && a1 == 254) {
      return a1 == 254 && (b[2] & 0xff) == 169 && (b[3] & 0xff) == 254
          ? "the cloud metadata address" : "a link-local address";
    }
    if (a0 == 100 && a1 >= 64 && a1 <= 127) {
      return "a shared (CGNAT, 100.64/10) address";
    }
    if (a0 >= 224 && a0 <= 239) {
      return "a multicast address";
    }
    if (a0 >= 240) {
      // 240/4 is reserved, 255.255.255.255 the broadcast address
      return "a reserved or broadcast address";
    }
    return null;
  }

  /**
   * The IPv4 address inside an IPv4-mapped ({@code ::ffff:a.b.c.d}) or IPv4-compatible
   * ({@code ::a.b.c.d}) IPv6 address, or null. Java turns the mapped form into an
   * {@link Inet4Address} when it parses text, but not every resolver path does.
   */
  private static InetAddress embeddedIpv4(byte[] b) {
    if (b[0] == 0 && b[1] == 0x64 && b[2] == (byte) 0xff && b[3] == (byte) 0x9b && isZero(b, 4, 12)) {
      // 64:ff9b::/96, the NAT64 well-known prefix: a translator forwards it to the IPv4 address inside
      return ipv4(b);
    }
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return null;
      }
    }
    boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    boolean compatible = b[10] == 0 && b[11] == 0;
    if (!mapped && !compatible) {
      return null;
    }
    if (compatible && b[12] == 0 && b[13] == 0 && b[14] == 0 && (b[15] == 0 || b[15] == 1)) {
      // :: and ::1 themselves: unspecified and loopback, judged as IPv6
      return null;
    }
    return ipv4(b);
  }

  private static boolean isZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static InetAddress ipv4(byte[] v6) {
    try {
      return InetAddress.getByAddress(new byte[] {v6[12], v6[13], v6[14], v6[15]});
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ApiException invalid(String message) {
    return new ApiException(ErrorCode.INVALID_CALLBACK_URL, message);
  }
}
