package io.aiq.circles.eval;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import picocli.CommandLine.Option;

/**
 * The options that more than one of the eval CLIs takes, as picocli mixins ({@code @Mixin}): each
 * is declared once, with one description and one default, wherever it appears.
 *
 * <ul>
 *   <li>{@link Help}: {@code just train}, whose {@code --version} is the model's</li>
 *   <li>{@link Dataset}, {@link Folds}: {@code just eval} and {@code just train}</li>
 *   <li>{@link Photos}: {@code just bench-model} and the pipeline benchmark</li>
 *   <li>{@link Backends}, {@link Phases}: {@code just bench} and the pipeline benchmark it runs</li>
 * </ul>
 */
public final class CliOptions {
  private CliOptions() {
  }

  /**
   * {@code -h}, {@code --help} alone, for a CLI that cannot take picocli's standard help options
   * because its {@code --version} means something else ({@code just train}: the model version).
   */
  public static final class Help {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    public boolean help;
  }

  /** {@code --dataset}: a COCO dataset folder. */
  public static final class Dataset {
    @Option(names = "--dataset", paramLabel = "<dataset>", defaultValue = "eval/datasets/coins-dev",
        description = "COCO dataset folder (default: ${DEFAULT-VALUE})")
    public Path path;
  }

  /** {@code --folds}: how the images are split into folds (image i is in fold i mod folds). */
  public static final class Folds {
    @Option(names = "--folds", paramLabel = "<folds>", defaultValue = "5",
        description = "number of folds: fold k is every image whose index %% folds == k; just train holds out fold "
            + "--val-fold, just eval --fold scores one (default: ${DEFAULT-VALUE})")
    public int count;
  }

  /** {@code --images}, {@code --size}: the JPEG photos a benchmark sends through the detector. */
  public static final class Photos {
    @Option(names = "--images", paramLabel = "<images>", defaultValue = "eval/datasets/coins-dev",
        description = "folder of JPEG photos (default: ${DEFAULT-VALUE})")
    public Path folder;

    @Option(names = "--size", paramLabel = "<size>", defaultValue = "512x384",
        description = "re-encode every photo as a JPEG of this size, WIDTHxHEIGHT, as the speed targets are stated; "
            + "'original' keeps the files (default: ${DEFAULT-VALUE})")
    public String size;

    /** The folder's {@code *.jpg} files by name, each re-encoded at {@link #size} unless it is "original". */
    public List<byte[]> load() throws IOException {
      List<byte[]> photos = new ArrayList<>();
      try (Stream<Path> files = Files.list(folder)) {
        for (Path p : files.filter(f -> f.toString().endsWith(".jpg")).sorted().toList()) {
          byte[] jpeg = Files.readAllBytes(p);
          if (!"original".equals(size)) {
            String[] wh = size.split("x");
            jpeg = reencode(jpeg, Integer.parseInt(wh[0]), Integer.parseInt(wh[1]));
          }
          photos.add(jpeg);
        }
      }
      return photos;
    }

    /** A JPEG scaled to {@code width × height} and encoded again (ImageIO's default quality, 0.75). */
    public static byte[] reencode(byte[] jpeg, int width, int height) throws IOException {
      BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
      Graphics2D g = out.createGraphics();
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(ImageIO.read(new ByteArrayInputStream(jpeg)), 0, 0, width, height, null);
      g.dispose();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      ImageIO.write(out, "jpg", bytes);
      return bytes.toByteArray();
    }
  }

  /** {@code --kafka}, {@code --database-url}: the broker and the database the measured service uses. */
  public static final class Backends {
    @Option(names = "--kafka", paramLabel = "<kafka>", required = true, description = "Kafka bootstrap servers")
    public String kafka;

    @Option(names = "--database-url", paramLabel = "<databaseUrl>", required = true, description = "PostgreSQL URL")
    public String databaseUrl;
  }

  /** {@code --seconds}, {@code --warmup}, {@code --soak}: how long the pipeline benchmark's phases last. */
  public static final class Phases {
    @Option(names = "--seconds", paramLabel = "<seconds>", defaultValue = "30",
        description = "length of each measured phase of the pipeline (default: ${DEFAULT-VALUE})")
    public int seconds;

    @Option(names = "--warmup", paramLabel = "<warmup>", defaultValue = "10",
        description = "seconds of load before the pipeline's measured phases: the JIT compiles the hot paths "
            + "meanwhile (default: ${DEFAULT-VALUE}; a long-running service is warmer still)")
    public int warmup;

    @Option(names = "--soak", paramLabel = "<soak>", defaultValue = "10000",
        description = "images pushed through the pipeline for the memory figure (default: ${DEFAULT-VALUE}; 0: skip)")
    public int soak;
  }
}
