package ai.fgclip2.server.router;

import ai.fgclip2.server.core.image.ImageDecodeException;
import java.util.function.Supplier;

/** Runs work on one request item so that a failure deep in the pipeline is reported with the item's JSON pointer. */
final class ItemPointer {
    private ItemPointer() {
    }

    static <T> T at(String pointer, Supplier<T> work) {
        try {
            return work.get();
        } catch (ImageDecodeException e) {
            throw new ApiException(imageProblem(e), e.getMessage(), pointer);
        }
    }

    static ProblemType imageProblem(ImageDecodeException e) {
        return switch (e.reason()) {
            case TOO_LARGE -> ProblemType.IMAGE_TOO_LARGE;
            case UNSUPPORTED_FORMAT -> ProblemType.UNSUPPORTED_IMAGE_FORMAT;
            default -> ProblemType.INVALID_IMAGE;
        };
    }

    /** The first array index in a pointer such as /images/3 or /detections/2/box. */
    static Integer index(String pointer) {
        for (String segment : pointer.split("/")) {
            if (!segment.isEmpty() && segment.chars().allMatch(Character::isDigit)) {
                return Integer.valueOf(segment);
            }
        }
        return null;
    }
}
