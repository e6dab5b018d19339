package io.aiq.circles.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.eval.bench.Bench;
import io.aiq.circles.eval.bench.ModelBenchmark;
import io.aiq.circles.eval.bench.PipelineBenchmark;
import io.aiq.circles.eval.train.TrainCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** {@code --help} of every eval CLI: exit 0, the usage with -h/--help, and no picocli warning. */
class HelpTest {

  static Stream<Supplier<Callable<Integer>>> clis() {
    return Stream.of(EvalCommand::new, TrainCommand::new, ModelBenchmark::new, Bench::new, PipelineBenchmark::new);
  }

  @ParameterizedTest
  @MethodSource("clis")
  void help_is_clean(Supplier<Callable<Integer>> cli) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    PrintStream systemErr = System.err;
    int exit;
    // picocli reports a description it cannot format on System.err, not on the command's err writer
    System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
    try {
      exit = new CommandLine(cli.get()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute("--help");
    } finally {
      System.setErr(systemErr);
    }

    assertThat(exit).isZero();
    assertThat(out.toString()).startsWith("Usage: aiq-").contains("-h, --help").doesNotContain("%n");
    assertThat(err.toString()).isEmpty();
    assertThat(stderr.toString(StandardCharsets.UTF_8)).isEmpty();
  }
}
