package io.aiq.circles.ingest;

import io.aiq.circles.testing.KafkaFixture;
import io.aiq.circles.testing.TestEnv;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A bootstrap address for the real test broker that starts closed: nothing listens on its port, so a
 * client given it cannot reach the broker. {@link #open()} starts forwarding it to the broker; a
 * client that then fetches metadata through it learns the broker's own address and talks to the
 * broker directly from there on.
 */
final class BrokerPort implements AutoCloseable {
  private final int port = TestEnv.freePort();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;

  /** {@code host:port} for {@code kafka.bootstrap}. */
  String bootstrap() {
    return "127.0.0.1:" + port;
  }

  /** From now on, connections to this port reach the broker. */
  synchronized void open() throws IOException {
    String broker = KafkaFixture.bootstrap().split(",")[0].trim();
    broker = broker.substring(broker.indexOf("://") + (broker.contains("://") ? 3 : 1));
    String host = broker.substring(0, broker.lastIndexOf(':'));
    int brokerPort = Integer.parseInt(broker.substring(broker.lastIndexOf(':') + 1));
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    server = s;
    Thread acceptor = new Thread(() -> {
      while (!s.isClosed()) {
        try {
          Socket client = s.accept();
          Socket upstream = new Socket(host, brokerPort);
          sockets.add(client);
          sockets.add(upstream);
          pump(client, upstream);
          pump(upstream, client);
        } catch (IOException e) {
          // closed
        }
      }
    }, "broker-port-" + port);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private static void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n; (n = in.read(buf)) >= 0; ) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side closed
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "broker-port-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // already closed
    }
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      closeQuietly(server);
    }
    sockets.forEach(BrokerPort::closeQuietly);
  }
}
