package io.aiq.circles.charts;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What `just dev --k8s` applies and installs on kind, checked without a cluster. */
class KindManifestsTest {
  private static final Path DEV = Path.of("..", "dev", "k8s");

  private static List<HasMetadata> read(String file) throws Exception {
    return Rendered.parse(Files.readString(DEV.resolve(file)));
  }

  @Test
  void the_in_cluster_kafka_and_postgresql_are_valid_objects_behind_the_names_values_kind_uses() throws Exception {
    List<HasMetadata> objects = new ArrayList<>(read("kafka.yaml"));
    objects.addAll(read("postgresql.yaml"));

    assertThat(objects).extracting(o -> o.getKind() + "/" + o.getMetadata().getName())
        .contains("Service/aiq-kafka", "Deployment/aiq-kafka", "Service/aiq-postgresql", "Deployment/aiq-postgresql");
    for (HasMetadata o : objects) {
      assertThat(UnknownFields.in(o)).as(o.getKind() + "/" + o.getMetadata().getName()).isEmpty();
    }
  }

  @Test
  void the_chart_as_just_dev_k8s_installs_it_renders_with_keda_on_the_in_cluster_kafka() {
    Rendered r = Rendered.with(List.of("values-kind.yaml"), Map.of("inference.keda.enabled", true,
        "kafka.bootstrap", "aiq-kafka.aiq.svc.cluster.local:9092"));

    assertThat(r.custom("ScaledObject")).hasSize(1);
    for (Deployment d : r.all(Deployment.class)) {
      assertThat(r.settings(d)).containsEntry("AIQ_KAFKA_BOOTSTRAP", "aiq-kafka.aiq.svc.cluster.local:9092");
      assertThat(Rendered.app(d).getImagePullPolicy()).isEqualTo("Never");
      assertThat(UnknownFields.in(d)).isEmpty();
    }
  }
}
