package io.aiq.circles.eval.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.eval.EvalCommand;
import io.aiq.circles.eval.train.TrainCommand;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The options the eval CLIs share are one mixin each: the same names, defaults and parsing everywhere. */
class CliOptionsTest {

  @Test
  void the_benchmarks_share_photos_backends_and_phases_with_their_defaults() {
    ModelBenchmark model = new ModelBenchmark();
    new CommandLine(model).parseArgs();
    assertThat(model.photos.folder).isEqualTo(Path.of("eval/datasets/coins-dev"));
    assertThat(model.photos.size).isEqualTo("512x384");
    assertThat(model.seconds).isEqualTo(8);
    assertThat(model.soak).isZero();

    PipelineBenchmark pipeline = new PipelineBenchmark();
    new CommandLine(pipeline).parseArgs("--kafka", "k:9092", "--database-url", "postgresql://db/x", "--size", "original");
    assertThat(pipeline.backends.kafka).isEqualTo("k:9092");
    assertThat(pipeline.backends.databaseUrl).isEqualTo("postgresql://db/x");
    assertThat(pipeline.photos.folder).isEqualTo(Path.of("eval/datasets/coins-dev"));
    assertThat(pipeline.photos.size).isEqualTo("original");
    assertThat(pipeline.phases.seconds).isEqualTo(30);
    assertThat(pipeline.phases.warmup).isEqualTo(10);
    assertThat(pipeline.phases.soak).isEqualTo(10000);

    Bench bench = new Bench();
    new CommandLine(bench).parseArgs("--kafka", "k:9092", "--database-url", "postgresql://db/x", "--seconds", "5",
        "--soak", "0");
    assertThat(bench.backends.kafka).isEqualTo("k:9092");
    assertThat(bench.phases.seconds).isEqualTo(5);
    assertThat(bench.phases.warmup).isEqualTo(10);
    assertThat(bench.phases.soak).isZero();
  }

  @Test
  void the_backends_are_required() {
    assertThat(new CommandLine(new PipelineBenchmark()).setErr(new java.io.PrintWriter(java.io.Writer.nullWriter()))
        .execute("--kafka", "k:9092")).isEqualTo(2);
  }

  @Test
  void eval_and_train_share_the_dataset_and_its_folds() throws Exception {
    TrainCommand train = new TrainCommand();
    new CommandLine(train).parseArgs("--folds", "3");
    EvalCommand eval = new EvalCommand();
    new CommandLine(eval).parseArgs();

    for (Object command : new Object[] {train, eval}) {
      Object dataset = field(command, "dataset");
      assertThat(dataset.getClass().getField("path").get(dataset)).isEqualTo(Path.of("eval/datasets/coins-dev"));
    }
    Object trainFolds = field(train, "folds");
    Object evalFolds = field(eval, "folds");
    assertThat(trainFolds.getClass().getField("count").get(trainFolds)).isEqualTo(3);
    assertThat(evalFolds.getClass().getField("count").get(evalFolds)).isEqualTo(5);
  }

  private static Object field(Object command, String name) throws ReflectiveOperationException {
    java.lang.reflect.Field f = command.getClass().getDeclaredField(name);
    f.setAccessible(true);
    return f.get(command);
  }
}
