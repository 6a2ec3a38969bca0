package ai.fgclip2.exporter.synth;

import ai.fgclip2.exporter.checkpoint.CheckpointLayout;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Writes a random-weight FG-CLIP 2 checkpoint (config.json, F32 model.safetensors, tokenizer.json) "
                + "in the published layout, for tests and benchmarks without the real weights.")
public final class SynthCommand implements Callable<Integer> {

    @Option(names = "--size", required = true, converter = SizeConverter.class,
            description = "Model size: tiny (D=64, 2 layers), base, large or so400m.")
    SynthSize size;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed; the same seed gives identical files (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, description = "Output directory (created if missing; existing checkpoint files are replaced).")
    Path out;

    @Option(names = "--outliers", description = "Give the same few channels (about 1 in 200) of every encoder block's LayerNorm gains 20x "
            + "the others' and divide the weights reading them by 20, as trained ViTs have: the float model is unchanged in scale, but "
            + "the activations entering the Linear layers carry outliers, a harder test for int8 than plain random weights.")
    boolean outliers;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        long start = System.nanoTime();
        Synthesizer.write(size, seed, out, outliers ? Synthesizer.Outliers.typical(size.config().hiddenSize()) : Synthesizer.Outliers.NONE);
        double seconds = (System.nanoTime() - start) / 1e9;
        double millions = CheckpointLayout.parameterCount(size.config()) / 1e6;
        spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s checkpoint (%.1f M parameters, seed %d%s) to %s in %.1f s%n",
                size.cliName(), millions, seed, outliers ? ", LayerNorm outlier channels" : "", out, seconds);
        return 0;
    }

    static final class SizeConverter implements ITypeConverter<SynthSize> {
        @Override
        public SynthSize convert(String value) {
            try {
                return SynthSize.fromCliName(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
