package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.aiq.circles.config.AppConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a clustered process finds the others: a member list, or a Kubernetes headless Service. */
class ClusterJoinTest {

  @Test
  void without_a_service_the_members_are_asked_over_tcp() {
    Config config = VertxFactory.hazelcast(new AppConfig.Cluster(true, "aiq", "10.0.0.5", 5701, 5710,
        List.of("10.0.0.6", "10.0.0.7:5702"), "", ""));

    JoinConfig join = config.getNetworkConfig().getJoin();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("10.0.0.6", "10.0.0.7:5702");
    assertThat(join.getKubernetesConfig().isEnabled()).isFalse();
    assertThat(config.getClusterName()).isEqualTo("aiq");
  }

  @Test
  void with_a_headless_service_the_members_are_looked_up_in_its_dns() {
    Config config = VertxFactory.hazelcast(new AppConfig.Cluster(true, "aiq", "10.0.0.5", 5701, 5710,
        List.of("127.0.0.1"), "aiq-circles-cluster.prod.svc.cluster.local", ""));

    JoinConfig join = config.getNetworkConfig().getJoin();
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    assertThat(join.getKubernetesConfig().getProperty("service-dns")).isEqualTo("aiq-circles-cluster.prod.svc.cluster.local");
    assertThat(join.getKubernetesConfig().getProperty("service-port")).isEqualTo("5701");
  }
}
