package io.aiq.circles.eval.train;

import io.aiq.circles.contracts.BoundingBox;
import java.awt.image.BufferedImage;
import java.util.List;

/** A training image with its coins, as loaded from the dataset (before augmentation). */
public record Sample(String name, BufferedImage image, List<BoundingBox> coins) {
}
