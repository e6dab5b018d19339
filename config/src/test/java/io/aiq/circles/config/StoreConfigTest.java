package io.aiq.circles.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code store.*}: which image store a process uses, and how it reaches an S3 bucket. */
@ExtendWith(VertxExtension.class)
class StoreConfigTest {

  private static AppConfig load(Vertx vertx, Map<String, String> env) throws Exception {
    return ConfigLoader.load(vertx, env, null).await(10, TimeUnit.SECONDS);
  }

  @Test
  void the_default_store_is_the_filesystem_under_data_images(Vertx vertx) throws Exception {
    AppConfig.Store store = load(vertx, Map.of()).store();

    assertThat(store.type()).isEqualTo("filesystem");
    assertThat(store.isS3()).isFalse();
    assertThat(store.root()).hasToString("./data/images");
  }

  @Test
  void every_s3_setting_comes_from_its_AIQ_STORE_S3_variable(Vertx vertx) throws Exception {
    AppConfig.Store store = load(vertx, Map.of("AIQ_STORE_TYPE", "S3", "AIQ_STORE_S3_BUCKET", "images",
        "AIQ_STORE_S3_PREFIX", "aiq/", "AIQ_STORE_S3_ENDPOINT", "http://minio:9000", "AIQ_STORE_S3_REGION",
        "eu-west-3", "AIQ_STORE_S3_PATH_STYLE", "true", "AIQ_STORE_S3_ACCESS_KEY_ID", "AKIDTEST",
        "AIQ_STORE_S3_SECRET_ACCESS_KEY", "s3cr3t", "AIQ_STORE_S3_WORKER_THREADS", "4",
        "AIQ_STORE_S3_TIMEOUT_MS", "2500")).store();

    assertThat(store.isS3()).isTrue();
    assertThat(store.s3()).isEqualTo(new AppConfig.S3("images", "aiq/", "http://minio:9000", "eu-west-3", true,
        "AKIDTEST", "s3cr3t", 4, 2500));
  }

  @Test
  void blank_endpoint_and_credentials_mean_aws_and_the_default_credentials_chain(Vertx vertx) throws Exception {
    AppConfig.S3 s3 = load(vertx, Map.of("AIQ_STORE_TYPE", "s3", "AIQ_STORE_S3_BUCKET", "images")).store().s3();

    assertThat(s3.endpoint()).isEmpty();
    assertThat(s3.accessKeyId()).isEmpty();
    assertThat(s3.secretAccessKey()).isEmpty();
    assertThat(s3.pathStyle()).isFalse();
    assertThat(s3.region()).isEqualTo("us-east-1");
  }

  @Test
  void s3_settings_can_come_from_the_yaml_as_a_nested_section(Vertx vertx) throws Exception {
    AppConfig.S3 s3 = ConfigLoader.load(vertx, Map.of(), new JsonObject().put("store", new JsonObject()
            .put("type", "s3").put("s3", new JsonObject().put("bucket", "b").put("path-style", true))))
        .await(10, TimeUnit.SECONDS).store().s3();

    assertThat(s3.bucket()).isEqualTo("b");
    assertThat(s3.pathStyle()).isTrue();
    assertThat(s3.workerThreads()).isEqualTo(16);
  }

  @Test
  void s3_without_a_bucket_stops_the_start_naming_the_setting(Vertx vertx) {
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_STORE_TYPE", "s3")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("store.s3.bucket");
  }

  @Test
  void an_unknown_store_type_stops_the_start_with_the_known_ones(Vertx vertx) {
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_STORE_TYPE", "gcs")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("gcs").hasMessageContaining("filesystem or s3");
  }

  @Test
  void an_access_key_without_its_secret_stops_the_start(Vertx vertx) {
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_STORE_TYPE", "s3", "AIQ_STORE_S3_BUCKET", "b",
        "AIQ_STORE_S3_ACCESS_KEY_ID", "AKIDTEST")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("store.s3.secret-access-key");
  }

  @Test
  void the_secret_never_appears_in_the_settings_printed_form(Vertx vertx) throws Exception {
    AppConfig.S3 s3 = load(vertx, Map.of("AIQ_STORE_TYPE", "s3", "AIQ_STORE_S3_BUCKET", "b",
        "AIQ_STORE_S3_ACCESS_KEY_ID", "AKIDTEST", "AIQ_STORE_S3_SECRET_ACCESS_KEY", "s3cr3t")).store().s3();

    assertThat(s3.toString()).contains("AKIDTEST").doesNotContain("s3cr3t");
  }
}
