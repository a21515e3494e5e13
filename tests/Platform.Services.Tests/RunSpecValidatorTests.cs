using Platform.Contracts;

namespace Platform.Services.Tests;

public class RunSpecValidatorTests
{
    private static readonly RunSpec Valid = new()
    {
        Name = "shakespeare-char",
        Model = new ModelSpec { NLayer = 4, NHead = 4, NEmbd = 128, BlockSize = 64, Dropout = 0.0 },
        Training = new TrainingSpec
        {
            MaxSteps = 2000,
            BatchSize = 12,
            LearningRate = 1e-3,
            EvalInterval = 250,
            EvalIters = 20,
            Seed = 1337
        },
    };

    [Fact]
    public void The_documented_example_is_valid() => Assert.True(RunSpecValidator.Validate(Valid).IsValid);

    [Theory]
    [InlineData(4, 130, "model.nHead")]
    [InlineData(0, 128, "model.nHead")]
    [InlineData(65, 130, "model.nHead")]
    public void Heads_must_divide_the_embedding(int heads, int embd, string field)
    {
        var errors = RunSpecValidator.Validate(Valid with { Model = Valid.Model with { NHead = heads, NEmbd = embd } });
        Assert.Contains(field, errors.Fields);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(1, true)]
    [InlineData(10, true)]
    [InlineData(0, false)]
    [InlineData(-3, false)]
    [InlineData(10_001, false)]
    public void Epochs_are_at_least_one_when_given(int? epochs, bool valid)
    {
        var errors = RunSpecValidator.Validate(Valid with { Training = Valid.Training with { Epochs = epochs } });
        Assert.Equal(valid, errors.IsValid);
        if (!valid)
            Assert.Equal(["training.epochs"], errors.Fields);
    }

    [Theory]
    // 1,000 tokens predict 999 in windows of 32: ⌈999 / 32⌉ = 32 windows; in batches of 12, ⌈32 / 12⌉ = 3 steps.
    [InlineData(1_000L, 32, 12, 1, 32L, 3)]
    // Exactly 4 windows of 8 (33 tokens), 2 a step: 2 steps; accumulating 2 micro-batches of 2: 1 step.
    [InlineData(33L, 8, 2, 1, 4L, 2)]
    [InlineData(33L, 8, 2, 2, 4L, 1)]
    // A split smaller than one window still makes a step.
    [InlineData(5L, 64, 64, 1, 1L, 1)]
    public void An_epoch_covers_the_training_split_once(long tokens, int blockSize, int batchSize, int accumulation,
        long windows, int steps)
    {
        Assert.Equal(windows, EpochPlan.WindowsOf(tokens, blockSize));
        Assert.Equal(steps, EpochPlan.StepsPerEpoch(windows, batchSize, accumulation));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1e-3)]
    [InlineData(double.NaN)]
    [InlineData(2.0)]
    public void Learning_rate_must_be_positive_and_at_most_one(double lr)
    {
        var errors = RunSpecValidator.Validate(Valid with { Training = Valid.Training with { LearningRate = lr } });
        Assert.Equal(["training.learningRate"], errors.Fields);
    }

    [Fact]
    public void Every_out_of_range_field_is_named()
    {
        var spec = new RunSpec
        {
            Name = "bad/name",
            Model = new ModelSpec { NLayer = 0, NHead = 4, NEmbd = 128, BlockSize = 1, Dropout = 1.0 },
            Training = new TrainingSpec
            {
                MaxSteps = 0,
                BatchSize = 0,
                EvalInterval = 0,
                EvalIters = 0,
                Seed = -1,
                Beta2 = 1.0
            },
        };
        var fields = RunSpecValidator.Validate(spec).Fields;
        foreach (var field in new[] { "name", "model.nLayer", "model.blockSize", "model.dropout", "training.maxSteps",
            "training.batchSize",
                     "training.evalInterval", "training.evalIters", "training.seed", "training.beta2" })
            Assert.Contains(field, fields);
    }

    [Theory]
    [InlineData("auto", true)]
    [InlineData("fp32", true)]
    [InlineData("bf16", true)]
    [InlineData("fp16", false)]
    [InlineData("BF16", false)]
    [InlineData(null, false)]
    public void Precision_is_auto_fp32_or_bf16(string? precision, bool valid)
    {
        var errors = RunSpecValidator.Validate(
            Valid with { Training = Valid.Training with { Precision = precision! } });
        Assert.Equal(valid ? [] : ["training.precision"], errors.Fields);
    }

    [Fact]
    public void A_new_run_trains_in_the_precision_auto_chooses() => Assert.Equal("auto", new TrainingSpec().Precision);

    [Fact]
    public void Too_many_tokens_per_step_are_refused()
    {
        var errors = RunSpecValidator.Validate(Valid with
        {
            Model = Valid.Model with { BlockSize = 4096 },
            Training = Valid.Training with { BatchSize = 1024 },
        });
        Assert.Equal(["training.batchSize"], errors.Fields);
    }

    [Fact]
    public void Nested_specs_are_reported_under_their_prefix()
    {
        var errors = RunSpecValidator.Validate(Valid with { Name = "" }, "autoTrain.");
        Assert.Equal(["autoTrain.name"], errors.Fields);
    }

    [Fact]
    public void Encoder_decoder_fields_are_checked_only_for_that_architecture()
    {
        var seq2seq = Valid with
        {
            Model = Valid.Model with
            {
                Architecture = Architectures.EncoderDecoder,
                NEncoderLayer = 0,
                NDecoderLayer = 49,
                MaxSourceLength = 1,
                MaxTargetLength = 5000
            },
            Training = Valid.Training with { LabelSmoothing = 1.0 },
        };
        Assert.Equal(
            ["model.nEncoderLayer", "model.nDecoderLayer", "model.maxSourceLength", "model.maxTargetLength",
            "training.labelSmoothing", "training.batchSize"],
            RunSpecValidator.Validate(seq2seq with { Training = seq2seq.Training with { BatchSize = 1000 } }).Fields);
        // The same out-of-range encoder-decoder fields mean nothing to a GPT.
        Assert.True(
            RunSpecValidator.Validate(
            seq2seq with { Model = seq2seq.Model with { Architecture = Architectures.Gpt }, Training = Valid.Training })
            .IsValid);
        Assert.Equal(["model.architecture"],
            RunSpecValidator.Validate(Valid with { Model = Valid.Model with { Architecture = "lstm" } }).Fields);
    }

    [Fact]
    public void A_lora_fine_tune_of_a_version_is_valid_and_each_bad_setting_is_named()
    {
        var lora = Valid with
        {
            InitFrom = new InitFromSpec { Model = "shakespeare-char/versions/2" },
            FineTune = new FineTuneSpec
            {
                Method = "lora",
                Rank = 8,
                Alpha = 16,
                Dropout = 0.05,
                Targets = ["attn", "mlp"]
            },
        };
        Assert.True(RunSpecValidator.Validate(lora).IsValid);

        var bad = lora with
        {
            InitFrom = new InitFromSpec { Model = "shakespeare char" },
            FineTune = new FineTuneSpec
            {
                Method = "lora",
                Rank = 0,
                Alpha = 0,
                Dropout = 1,
                Targets = ["attn", "attn"]
            },
        };
        Assert.Equal(["fineTune.alpha", "fineTune.dropout", "fineTune.rank", "fineTune.targets", "initFrom.model"],
            RunSpecValidator.Validate(bad).Fields.Order());
        Assert.Contains("fineTune.method",
            RunSpecValidator.Validate(lora with { FineTune = new FineTuneSpec { Method = "adapter" } }).Fields);
        Assert.Contains("fineTune.targets",
            RunSpecValidator.Validate(lora with
            {
                FineTune = new FineTuneSpec
                {
                    Method = "lora",
                    Targets = ["ffn"]
                }
            }).Fields);
    }

    [Fact]
    public void Fine_tune_settings_need_a_base_and_vectors_need_a_run_from_scratch()
    {
        Assert.Equal(["fineTune"], RunSpecValidator.Validate(Valid with { FineTune = new FineTuneSpec() }).Fields);
        Assert.Equal(["vectorsId"],
            RunSpecValidator.Validate(Valid with
            {
                VectorsId = Guid.NewGuid(),
                InitFrom = new InitFromSpec { Model = "base" }
            }).Fields);
        Assert.True(RunSpecValidator.Validate(Valid with { VectorsId = Guid.NewGuid() }).IsValid);
        var encoderDecoderLora = Valid with
        {
            Model = Valid.Model with { Architecture = Architectures.EncoderDecoder },
            InitFrom = new InitFromSpec { Model = "dates" },
            FineTune = new FineTuneSpec { Method = "lora" },
        };
        Assert.Equal(["fineTune.method"], RunSpecValidator.Validate(encoderDecoderLora).Fields);
    }
}
