package io.aiq.circles.inference.tf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.aiq.circles.contracts.BoundingBox;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Fitting a detected box to the object's outline: a loose or shifted box around a disc comes back
 * tight, and where the image shows no single outline the model's box is kept.
 */
class EdgeRefinementTest {
  private static final EdgeRefinement REFINE = EdgeRefinement.parse("edges:0.15");

  /** A grey, lightly noisy background with a bright ellipse at (cx, cy) with semi-axes a, b. */
  private static BufferedImage disc(int type, double cx, double cy, double a, double b, long seed) {
    return disc(type, 320, 240, cx, cy, a, b, seed);
  }

  private static BufferedImage disc(int type, int width, int height, double cx, double cy, double a, double b, long seed) {
    BufferedImage img = new BufferedImage(width, height, type);
    Random random = new Random(seed);
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int v = 70 + random.nextInt(12);
        img.setRGB(x, y, new Color(v, v, v + 5).getRGB());
      }
    }
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(new Color(205, 170, 90));
    g.fill(new Ellipse2D.Double(cx - a, cy - b, 2 * a, 2 * b));
    g.dispose();
    return img;
  }

  private static double iou(BoundingBox p, BoundingBox q) {
    return EdgeRefinement.iou(new double[] {p.xmin(), p.ymin(), p.xmax(), p.ymax()},
        new double[] {q.xmin(), q.ymin(), q.xmax(), q.ymax()});
  }

  @Test
  void a_box_a_little_too_large_and_off_centre_is_fitted_to_the_disc() {
    BufferedImage img = disc(BufferedImage.TYPE_3BYTE_BGR, 150.3, 110.7, 40, 40, 1);
    BoundingBox truth = new BoundingBox(110.3, 70.7, 190.3, 150.7);
    BoundingBox model = new BoundingBox(107, 70, 194, 155); // 8 % too wide, 6 % too tall, shifted

    BoundingBox refined = REFINE.refine(EdgeRefinement.Luminance.of(img), model, img.getWidth(), img.getHeight());

    assertThat(iou(model, truth)).isLessThan(0.9);
    assertThat(iou(refined, truth)).isGreaterThan(0.97);
  }

  @Test
  void a_large_object_in_a_large_photo_is_fitted_as_closely_relative_to_its_size() {
    // sampled every 0.5 % of the radius rather than every half pixel
    BufferedImage img = disc(BufferedImage.TYPE_3BYTE_BGR, 1200, 1000, 610, 480, 400, 400, 11);
    BoundingBox truth = new BoundingBox(210, 80, 1010, 880);
    BoundingBox model = new BoundingBox(185, 60, 1045, 915);

    BoundingBox refined = REFINE.refine(EdgeRefinement.Luminance.of(img), model, img.getWidth(), img.getHeight());

    assertThat(iou(model, truth)).isLessThan(0.9);
    assertThat(iou(refined, truth)).isGreaterThan(0.98);
  }

  @Test
  void an_ellipse_keeps_its_own_width_and_height() {
    BufferedImage img = disc(BufferedImage.TYPE_3BYTE_BGR, 160, 120, 50, 36, 2);
    BoundingBox model = new BoundingBox(114, 86, 204, 158);

    BoundingBox refined = REFINE.refine(EdgeRefinement.Luminance.of(img), model, img.getWidth(), img.getHeight());

    assertThat(refined.width()).isCloseTo(100, within(1.5));
    assertThat(refined.height()).isCloseTo(72, within(1.5));
  }

  @Test
  void a_dark_object_on_a_light_ground_is_fitted_as_well_as_a_light_one_on_a_dark_ground() {
    BufferedImage img = disc(BufferedImage.TYPE_INT_RGB, 150, 110, 40, 40, 3);
    // invert: the same disc, now darker than its ground, read through the getRGB path (TYPE_INT_RGB)
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        img.setRGB(x, y, ~img.getRGB(x, y) | 0xff000000);
      }
    }
    BoundingBox truth = new BoundingBox(110, 70, 190, 150);

    BoundingBox refined = REFINE.refine(EdgeRefinement.Luminance.of(img), new BoundingBox(114, 73, 188, 147),
        img.getWidth(), img.getHeight());

    assertThat(iou(refined, truth)).isGreaterThan(0.97);
  }

  @Test
  void growth_widens_the_fitted_ellipse_by_its_fraction_of_the_radius() {
    BufferedImage img = disc(BufferedImage.TYPE_3BYTE_BGR, 150, 110, 40, 40, 4);
    BoundingBox model = new BoundingBox(112, 72, 188, 148);
    EdgeRefinement.Luminance lum = EdgeRefinement.Luminance.of(img);

    BoundingBox plain = EdgeRefinement.parse("edges:0.15").refine(lum, model, 320, 240);
    BoundingBox grown = EdgeRefinement.parse("edges:0.15:0.05").refine(lum, model, 320, 240);

    assertThat(grown.width()).isCloseTo(plain.width() * 1.05, within(1e-6));
    assertThat((grown.xmin() + grown.xmax()) / 2).isCloseTo((plain.xmin() + plain.xmax()) / 2, within(1e-6));
  }

  @Test
  void where_the_image_shows_no_outline_the_models_box_is_kept() {
    BufferedImage flat = disc(BufferedImage.TYPE_3BYTE_BGR, -500, -500, 1, 1, 5); // no disc in view
    BoundingBox model = new BoundingBox(100, 60, 180, 140);

    assertThat(REFINE.refine(EdgeRefinement.Luminance.of(flat), model, 320, 240)).isSameAs(model);
  }

  @Test
  void an_outline_far_from_the_models_box_is_not_followed() {
    // the disc is twice the box: its outline lies outside the band, and what is inside is flat
    BufferedImage img = disc(BufferedImage.TYPE_3BYTE_BGR, 160, 120, 80, 80, 6);
    BoundingBox model = new BoundingBox(120, 80, 200, 160);

    assertThat(REFINE.refine(EdgeRefinement.Luminance.of(img), model, 320, 240)).isSameAs(model);
  }

  @Test
  void a_box_at_the_edge_of_the_image_is_refined_within_it_or_kept() {
    BufferedImage img = disc(BufferedImage.TYPE_3BYTE_BGR, 20, 110, 40, 40, 7); // half outside on the left
    BoundingBox model = new BoundingBox(0, 68, 62, 152);

    BoundingBox refined = REFINE.refine(EdgeRefinement.Luminance.of(img), model, 320, 240);

    assertThat(refined.xmin()).isGreaterThanOrEqualTo(0);
    assertThat(refined.ymax()).isLessThanOrEqualTo(240);
    assertThat(iou(refined, model)).isGreaterThanOrEqualTo(EdgeRefinement.MIN_IOU_WITH_MODEL - 1e-9);
  }

  @Test
  void none_returns_the_box_untouched_and_a_tiny_box_is_left_alone() {
    BufferedImage img = disc(BufferedImage.TYPE_3BYTE_BGR, 150, 110, 4, 4, 8);
    EdgeRefinement.Luminance lum = EdgeRefinement.Luminance.of(img);
    BoundingBox model = new BoundingBox(146, 106, 154, 114);

    assertThat(EdgeRefinement.NONE.refine(lum, model, 320, 240)).isSameAs(model);
    assertThat(REFINE.refine(lum, model, 320, 240)).as("half-side below " + EdgeRefinement.MIN_RADIUS).isSameAs(model);
  }

  @Test
  void brightness_reads_the_same_from_the_decoded_bytes_as_through_getRGB() {
    BufferedImage bgr = disc(BufferedImage.TYPE_3BYTE_BGR, 150, 110, 40, 30, 9);
    BufferedImage rgb = new BufferedImage(bgr.getWidth(), bgr.getHeight(), BufferedImage.TYPE_INT_RGB);
    rgb.getGraphics().drawImage(bgr, 0, 0, null);
    EdgeRefinement.Luminance a = EdgeRefinement.Luminance.of(bgr);
    EdgeRefinement.Luminance b = EdgeRefinement.Luminance.of(rgb);

    for (double[] p : List.of(new double[] {0.5, 0.5}, new double[] {150.2, 110.9}, new double[] {190.7, 80.1},
        new double[] {319.5, 239.5})) {
      assertThat(a.at(p[0], p[1])).as("at %s,%s", p[0], p[1]).isCloseTo(b.at(p[0], p[1]), within(0.01));
    }
    assertThat(a.at(-1, 5)).isNaN();
    assertThat(a.at(5, 241)).isNaN();
  }

  @Test
  void a_setting_reads_back_as_it_was_written_and_a_bad_one_is_refused() {
    for (String s : List.of("none", "edges:0.1", "edges:0.12:0.02", "edges:0.08:-0.01")) {
      assertThat(EdgeRefinement.parse(s)).hasToString(s);
    }
    assertThat(EdgeRefinement.parse("")).isEqualTo(EdgeRefinement.NONE);
    for (String bad : List.of("edges", "edges:", "edges:x", "edges:0", "edges:0.5", "edges:0.1:0.3", "edges:0.1:1:2",
        "edge:0.1", "0.1")) {
      assertThatThrownBy(() -> EdgeRefinement.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(bad);
    }
  }
}
