package io.aiq.circles.persistence;

/** An upload that passed validation and whose bytes are in the image store. */
public record NewImage(String imageId, String storageRef, String contentType, String format, int width,
                       int height, long sizeBytes) {
}
