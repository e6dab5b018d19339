package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The viewer at {@code /}, in a real (headless) Chromium against the running system with the
 * shipped model: what a person sees after dropping a coin photo on the page. Skipped, with a
 * message, where Chromium is not installed ({@code .ci/run} installs it).
 */
class ViewerBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static RunningApp sys;
  private static ChromeDriver browser;

  @BeforeAll
  static void start() {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "Chromium is not installed (apt-get install chromium chromium-driver): the viewer's browser test is skipped");
    sys = new RunningApp(new TestEnv(), new JsonObject().put("detector", "tensorflow")
        .put("model", new JsonObject().put("path", "../models/circles")));
    ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless=new",
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1100");
    // the system's chromedriver, so Selenium Manager never downloads one
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
    browser = new ChromeDriver(service, options);
    browser.get("http://127.0.0.1:" + sys.app.httpPort() + "/");
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (sys != null) {
      sys.close();
    }
  }

  private static WebElement upload(Path file) {
    int before = browser.findElements(By.cssSelector(".upload-card")).size();
    browser.findElement(By.id("file-input")).sendKeys(file.toAbsolutePath().toString());
    // cards come newest first
    new WebDriverWait(browser, Duration.ofSeconds(10))
        .until(d -> d.findElements(By.cssSelector(".upload-card")).size() > before);
    return browser.findElements(By.cssSelector(".upload-card")).get(0);
  }

  private static void awaitStatus(WebElement card, String... statuses) {
    new WebDriverWait(browser, Duration.ofSeconds(60))
        .until(d -> List.of(statuses).contains(card.getDomAttribute("data-status")));
  }

  private static void setThreshold(double value) {
    ((JavascriptExecutor) browser).executeScript("const s = document.getElementById('threshold');"
        + "s.value = arguments[0]; s.dispatchEvent(new Event('input', {bubbles: true}));"
        + "s.dispatchEvent(new Event('change', {bubbles: true}));", String.valueOf(value));
  }

  private static int drawnCircles(WebElement card) {
    return card.findElements(By.cssSelector("svg.overlay circle.detection")).size();
  }

  @Test
  void a_coin_photo_dropped_on_the_page_shows_one_circle_per_detected_object_and_the_slider_hides_weak_ones(
      @TempDir Path dir) throws Exception {
    Path photo = dir.resolve("coins.jpg");
    Files.write(photo, TestImages.otherCoinPhoto());
    setThreshold(0);

    WebElement card = upload(photo);
    awaitStatus(card, "succeeded", "failed", "error");
    assertThat(card.getDomAttribute("data-status")).as(card.getText()).isEqualTo("succeeded");
    new WebDriverWait(browser, Duration.ofSeconds(10)).until(d -> drawnCircles(card) > 0);

    JsonArray objects = objectsOf(card.getDomAttribute("data-image-id"));
    assertThat(objects).isNotEmpty();
    assertThat(drawnCircles(card)).isEqualTo(objects.size());
    assertThat(card.findElements(By.cssSelector("table.objects tbody tr"))).hasSize(objects.size());
    screenshot("viewer-coins.png");

    // a threshold between the weakest and the strongest detection (slider steps are 0.01)
    double strongest = objects.stream().mapToDouble(o -> ((JsonObject) o).getDouble("score")).max().orElseThrow();
    double weakest = objects.stream().mapToDouble(o -> ((JsonObject) o).getDouble("score")).min().orElseThrow();
    assertThat(strongest - weakest).as("the photo's detections differ in score").isGreaterThan(0.02);
    double threshold = Math.floor((strongest + weakest) / 2 * 100) / 100;
    long expected = objects.stream().filter(o -> ((JsonObject) o).getDouble("score") >= threshold).count();

    setThreshold(threshold);

    new WebDriverWait(browser, Duration.ofSeconds(5)).until(d -> drawnCircles(card) == expected);
    assertThat(expected).isLessThan(objects.size()).isPositive();
    assertThat(card.findElement(By.cssSelector(".visible-count")).getText()).isEqualTo(String.valueOf(expected));
    assertThat(card.findElements(By.cssSelector("table.objects tbody tr"))).hasSize((int) expected);
    setThreshold(0);
  }

  @Test
  void the_page_follows_a_job_by_its_event_stream_not_by_long_polling(@TempDir Path dir) throws Exception {
    Path photo = dir.resolve("coins-again.jpg");
    Files.write(photo, TestImages.discs(320, 240, "jpeg", 4242));
    double streams = counter("aiq_job_event_streams_opened_total");
    double longPolls = sys.registry.find("aiq_job_waits_total").counters().stream().mapToDouble(c -> c.count()).sum();

    WebElement card = upload(photo);
    awaitStatus(card, "succeeded", "failed", "error");

    assertThat(card.getDomAttribute("data-status")).as(card.getText()).isIn("succeeded", "failed");
    assertThat(counter("aiq_job_event_streams_opened_total")).isGreaterThan(streams);
    assertThat(sys.registry.find("aiq_job_waits_total").counters().stream().mapToDouble(c -> c.count()).sum())
        .as("no Prefer: wait long-poll").isEqualTo(longPolls);
  }

  private static double counter(String name) {
    io.micrometer.core.instrument.Counter c = sys.registry.find(name).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void a_text_file_gets_a_readable_error_and_no_circles(@TempDir Path dir) throws Exception {
    Path text = dir.resolve("notes.txt");
    Files.write(text, TestImages.text());

    WebElement card = upload(text);
    awaitStatus(card, "error", "failed");

    assertThat(card.getDomAttribute("data-status")).isEqualTo("error");
    String message = card.findElement(By.cssSelector(".error")).getText();
    assertThat(message).containsIgnoringCase("image").doesNotContain("{").doesNotContain("undefined");
    assertThat(drawnCircles(card)).isZero();
    screenshot("viewer-error.png");
  }

  @Test
  void the_page_links_the_api_documentation_and_lists_recent_images() {
    assertThat(browser.findElements(By.cssSelector("a[href='/docs'], a[href='/docs/']"))).isNotEmpty();
    assertThat(browser.findElements(By.id("recent"))).isNotEmpty();
  }

  private static JsonArray objectsOf(String imageId) {
    JsonObject body = sys.api.get("/images/" + imageId + "/objects").bodyAsJsonObject();
    return body.getJsonArray("objects", body.getJsonArray("items", new JsonArray()));
  }

  private static void screenshot(String name) throws Exception {
    File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.createDirectories(Path.of("target"));
    Files.copy(shot.toPath(), Path.of("target", name), StandardCopyOption.REPLACE_EXISTING);
  }
}
