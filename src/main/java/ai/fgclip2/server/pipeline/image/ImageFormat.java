package ai.fgclip2.server.pipeline.image;

import ai.fgclip2.server.pipeline.image.ImageDecodeException.Reason;
import java.io.IOException;
import java.util.Iterator;
import java.util.function.Supplier;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;

/** The accepted formats, recognised by their signature rather than by name or content type. */
public enum ImageFormat {
    JPEG("JPEG", () -> registered(com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi.class,
            com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi::new)),
    PNG("PNG", () -> jdkReader("png")),
    GIF("GIF", () -> jdkReader("gif")),
    BMP("BMP", () -> jdkReader("bmp")),
    WEBP("WebP", () -> registered(com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi.class,
            com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi::new));

    final String label;
    private final ReaderFactory factory;

    ImageFormat(String label, ReaderFactory factory) {
        this.label = label;
        this.factory = factory;
    }

    ImageReader newReader() {
        try {
            return factory.create();
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a " + label + " reader", e);
        }
    }

    static ImageFormat sniff(byte[] d) {
        if (d.length >= 3 && (d[0] & 0xff) == 0xff && (d[1] & 0xff) == 0xd8 && (d[2] & 0xff) == 0xff) {
            return JPEG;
        }
        if (startsWith(d, 0, "\u0089PNG\r\n\u001a\n")) {
            return PNG;
        }
        if (startsWith(d, 0, "GIF87a") || startsWith(d, 0, "GIF89a")) {
            return GIF;
        }
        if (startsWith(d, 0, "BM")) {
            return BMP;
        }
        if (startsWith(d, 0, "RIFF") && startsWith(d, 8, "WEBP")) {
            return WEBP;
        }
        throw new ImageDecodeException(Reason.UNSUPPORTED_FORMAT, "not a JPEG, PNG, WebP, GIF or BMP image");
    }

    private static boolean startsWith(byte[] data, int at, String latin1) {
        if (data.length < at + latin1.length()) {
            return false;
        }
        for (int i = 0; i < latin1.length(); i++) {
            if (data[at + i] != (byte) latin1.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static ImageReader jdkReader(String formatName) {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(formatName);
        if (!readers.hasNext()) {
            throw new IllegalStateException("no ImageIO reader for " + formatName);
        }
        return readers.next();
    }

    /**
     * A reader from the given TwelveMonkeys provider, which must be registered (it finds the JDK reader it
     * delegates to on registration). The service-loader scan normally registers it; register it here when
     * the scan ran under a class loader that could not see it.
     */
    private static <T extends ImageReaderSpi> ImageReader registered(Class<T> type, Supplier<T> create) throws IOException {
        IIORegistry registry = IIORegistry.getDefaultInstance();
        T provider = registry.getServiceProviderByClass(type);
        if (provider == null) {
            provider = create.get();
            registry.registerServiceProvider(provider, ImageReaderSpi.class);
        }
        return provider.createReaderInstance();
    }

    private interface ReaderFactory {
        ImageReader create() throws IOException;
    }
}
