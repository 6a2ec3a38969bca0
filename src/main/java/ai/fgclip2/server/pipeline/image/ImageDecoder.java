package ai.fgclip2.server.pipeline.image;

import ai.fgclip2.server.pipeline.image.ImageDecodeException.Reason;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

/**
 * Decodes JPEG (baseline, progressive, grey, CMYK, YCCK), PNG (all bit depths and colour types), WebP, GIF
 * (first frame) and BMP into 8-bit RGB exactly as Pillow's {@code Image.open(...).convert("RGB")} does, EXIF
 * orientation not applied. The image size is read from the header and checked against the pixel limit
 * before any pixel data is decoded. Thread-safe: each call uses its own reader.
 */
public final class ImageDecoder {
    private final long maxPixels;

    /** @param maxPixels largest {@code width * height} accepted (Pillow's own bomb limit is 178956970). */
    public ImageDecoder(long maxPixels) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        }
        this.maxPixels = maxPixels;
    }

    public long maxPixels() {
        return maxPixels;
    }

    /**
     * The image's declared size, checked against the pixel limit; reads only the header.
     *
     * @throws ImageDecodeException when the data is not an accepted image, its size fields disagree, or it is too large
     */
    public ImageHeader header(byte[] data) {
        ImageHeader header = ImageHeader.read(data);
        checkSize(header.format(), header.width(), header.height());
        return header;
    }

    public RgbImage decode(byte[] data) {
        ImageHeader header = header(data);
        ImageFormat format = header.format();
        ImageReader reader = format.newReader();
        try (ImageInputStream in = new ByteArrayImageStream(data, format == ImageFormat.WEBP ? ByteArrayImageStream.WEBP_PADDING : 0)) {
            // GIF needs its metadata (canvas size, frame offset, transparent index); the others do not
            reader.setInput(in, false, format != ImageFormat.GIF);
            RgbImage image = switch (format) {
                case JPEG -> decodeJpeg(reader, data);
                case GIF -> decodeGifFirstFrame(reader);
                case PNG, WEBP, BMP -> PillowRgb.fromBufferedImage(reader.read(0), format.label, format == ImageFormat.PNG && isPngGreyWithoutAlpha(data));
            };
            // the header bounds the work only if the decoder keeps to it (an animated WebP's first frame may be smaller)
            if (image.width() > header.width() || image.height() > header.height()) {
                throw new ImageDecodeException(Reason.CORRUPT, "the " + format.label + " header declares " + header.width() + "x" + header.height()
                        + " pixels but the data decodes to " + image.width() + "x" + image.height());
            }
            return image;
        } catch (ImageDecodeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // a decoder that ran out of heap may wrap the error: then the image is not at fault
            for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
                if (cause instanceof OutOfMemoryError outOfMemory) {
                    throw outOfMemory;
                }
            }
            // decoders signal damaged data with IIOException but also with assorted runtime exceptions
            String detail = e instanceof EOFException ? "the data ends early"
                    : e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new ImageDecodeException(Reason.CORRUPT, "the " + format.label + " data cannot be decoded: " + detail, e);
        } finally {
            reader.dispose();
        }
    }

    private RgbImage decodeJpeg(ImageReader reader, byte[] data) throws IOException {
        JpegHeader header = JpegHeader.parse(data);
        if (!header.complete()) {
            // libjpeg (and so ImageIO) fills in a cut-off scan; Pillow refuses the file
            throw new ImageDecodeException(Reason.CORRUPT, "the JPEG data ends before its end-of-image marker");
        }
        JpegHeader.ColorSpace colorSpace = header.colorSpace();
        // raw samples: the reader's own conversion would apply ICC profiles and its own CMYK handling
        Raster raw = reader.readRaster(0, null);
        return PillowRgb.fromJpegRaster(raw, colorSpace);
    }

    /**
     * Pillow's first GIF frame: a canvas of the logical screen size (grown to hold the frame if needed) filled
     * with the transparent index, or 0 without one, with the frame's indices at its offset, looked up in the
     * frame's palette.
     */
    private RgbImage decodeGifFirstFrame(ImageReader reader) throws IOException {
        Node screen = child(reader.getStreamMetadata(), "javax_imageio_gif_stream_1.0", "LogicalScreenDescriptor");
        Node image = reader.getImageMetadata(0).getAsTree("javax_imageio_gif_image_1.0");
        Node descriptor = child(image, "ImageDescriptor");
        int left = intAttribute(descriptor, "imageLeftPosition");
        int top = intAttribute(descriptor, "imageTopPosition");
        int frameWidth = intAttribute(descriptor, "imageWidth");
        int frameHeight = intAttribute(descriptor, "imageHeight");
        checkSize(ImageFormat.GIF, frameWidth, frameHeight);
        int width = Math.max(screen == null ? 0 : intAttribute(screen, "logicalScreenWidth"), left + frameWidth);
        int height = Math.max(screen == null ? 0 : intAttribute(screen, "logicalScreenHeight"), top + frameHeight);
        checkSize(ImageFormat.GIF, width, height);
        Node control = child(image, "GraphicControlExtension");
        int fill = control != null && "TRUE".equalsIgnoreCase(attribute(control, "transparentColorFlag"))
                ? intAttribute(control, "transparentColorIndex") : 0;

        BufferedImage frame = reader.read(0);
        if (!(frame.getColorModel() instanceof IndexColorModel palette)) {
            throw new ImageDecodeException(Reason.UNSUPPORTED_FORMAT, "GIF frame without a palette");
        }
        WritableRaster canvas = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, width, height, 1, null);
        int[] row = new int[width];
        Arrays.fill(row, fill);
        for (int y = 0; y < height; y++) {
            canvas.setSamples(0, y, width, 1, 0, row);
        }
        Raster indices = frame.getRaster();
        int[] frameRow = new int[indices.getWidth()];
        for (int y = 0; y < indices.getHeight(); y++) {
            indices.getSamples(indices.getMinX(), indices.getMinY() + y, frameRow.length, 1, 0, frameRow);
            canvas.setSamples(left, top + y, frameRow.length, 1, 0, frameRow);
        }
        return PillowRgb.fromIndexed(canvas, palette);
    }

    /** Colour type 0 in the IHDR chunk, which a valid PNG has first (signature 8, length 4, type 4, size 8, depth 1). */
    private static boolean isPngGreyWithoutAlpha(byte[] data) {
        return data.length > 25 && data[25] == 0;
    }

    private void checkSize(ImageFormat format, long width, long height) {
        if (width <= 0 || height <= 0) {
            throw new ImageDecodeException(Reason.CORRUPT, "the " + format.label + " header declares an empty image (" + width + "x" + height + ")");
        }
        if (width * height > maxPixels) {
            throw new ImageDecodeException(Reason.TOO_LARGE, "the image is " + width + "x" + height + " = " + width * height
                    + " pixels, more than the limit of " + maxPixels);
        }
    }

    private static Node child(IIOMetadata metadata, String formatName, String name) {
        return metadata == null ? null : child(metadata.getAsTree(formatName), name);
    }

    private static Node child(Node parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (name.equals(n.getNodeName())) {
                return n;
            }
        }
        return null;
    }

    private static String attribute(Node node, String name) {
        NamedNodeMap attributes = node.getAttributes();
        Node value = attributes == null ? null : attributes.getNamedItem(name);
        return value == null ? null : value.getNodeValue();
    }

    private static int intAttribute(Node node, String name) {
        String value = node == null ? null : attribute(node, name);
        if (value == null) {
            throw new ImageDecodeException(Reason.CORRUPT, "GIF header lacks " + name);
        }
        return Integer.parseInt(value);
    }
}
