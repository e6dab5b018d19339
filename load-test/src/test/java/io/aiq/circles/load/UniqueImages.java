package io.aiq.circles.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * Photos made unique: the service stores images by the SHA-256 of their bytes and answers 409 to a
 * second upload of the same bytes, so a flood of new work needs new bytes every time. Each call to
 * {@link #next()} takes the next photo of the folder (round robin) and writes a comment naming this
 * run and a sequence number into it: a JPEG COM segment after the APPn segments, or a PNG tEXt chunk
 * after IHDR (with its CRC). The pixels, and so the detector's work, are those of the photo; the
 * container stays whole, as the gateway checks. The photos are read into memory once.
 */
final class UniqueImages {
  /** One upload: its bytes, a file name and its content type. */
  record Image(byte[] bytes, String name, String contentType) {
  }

  private record Photo(byte[] bytes, String name, String contentType) {
  }

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private final List<Photo> photos;
  private final String run = UUID.randomUUID().toString();
  private final AtomicLong sequence = new AtomicLong();

  UniqueImages(List<Map<String, Object>> records) {
    photos = records.stream().map(r -> {
      Path path = Path.of((String) r.get("path"));
      try {
        return new Photo(Files.readAllBytes(path), (String) r.get("name"), (String) r.get("contentType"));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + path, e);
      }
    }).toList();
  }

  Image next() {
    long n = sequence.getAndIncrement();
    Photo photo = photos.get((int) (n % photos.size()));
    byte[] comment = ("aiq-circles flood " + run + " " + n).getBytes(StandardCharsets.ISO_8859_1);
    byte[] bytes = photo.contentType().equals("image/png") ? withPngText(photo.bytes(), comment, photo.name())
        : withJpegComment(photo.bytes(), comment, photo.name());
    return new Image(bytes, n + "-" + photo.name(), photo.contentType());
  }

  /** The JPEG with a COM segment inserted after SOI and the APPn segments that follow it. */
  static byte[] withJpegComment(byte[] jpeg, byte[] comment, String name) {
    if (jpeg.length < 4 || (jpeg[0] & 0xff) != 0xFF || (jpeg[1] & 0xff) != 0xD8) {
      throw new IllegalArgumentException(name + " is not a JPEG (no SOI marker)");
    }
    int pos = 2;
    while (pos + 4 <= jpeg.length && (jpeg[pos] & 0xff) == 0xFF && (jpeg[pos + 1] & 0xf0) == 0xE0) {
      pos += 2 + (((jpeg[pos + 2] & 0xff) << 8) | (jpeg[pos + 3] & 0xff));
    }
    if (pos > jpeg.length) {
      throw new IllegalArgumentException(name + " is a truncated JPEG");
    }
    ByteBuffer out = ByteBuffer.allocate(jpeg.length + 4 + comment.length);
    out.put(jpeg, 0, pos).put((byte) 0xFF).put((byte) 0xFE).putShort((short) (comment.length + 2)).put(comment)
        .put(jpeg, pos, jpeg.length - pos);
    return out.array();
  }

  /** The PNG with a tEXt chunk "Comment" inserted after IHDR. */
  static byte[] withPngText(byte[] png, byte[] comment, String name) {
    int ihdrEnd = PNG_SIGNATURE.length + 4 + 4 + 13 + 4;
    if (png.length < ihdrEnd || !ByteBuffer.wrap(png, 0, 8).equals(ByteBuffer.wrap(PNG_SIGNATURE))
        || !new String(png, 12, 4, StandardCharsets.ISO_8859_1).equals("IHDR")) {
      throw new IllegalArgumentException(name + " is not a PNG that starts with IHDR");
    }
    byte[] data = ByteBuffer.allocate(8 + comment.length).put("Comment\0".getBytes(StandardCharsets.ISO_8859_1))
        .put(comment).array();
    CRC32 crc = new CRC32();
    crc.update("tEXt".getBytes(StandardCharsets.ISO_8859_1));
    crc.update(data);
    ByteBuffer out = ByteBuffer.allocate(png.length + 12 + data.length);
    out.put(png, 0, ihdrEnd).putInt(data.length).put("tEXt".getBytes(StandardCharsets.ISO_8859_1)).put(data)
        .putInt((int) crc.getValue()).put(png, ihdrEnd, png.length - ihdrEnd);
    return out.array();
  }
}
