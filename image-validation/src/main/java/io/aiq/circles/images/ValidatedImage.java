package io.aiq.circles.images;

/** An upload that passed every check: its format, size in pixels and content hash (the image id). */
public record ValidatedImage(ImageFormat format, int width, int height, String sha256, long sizeBytes) {
}
