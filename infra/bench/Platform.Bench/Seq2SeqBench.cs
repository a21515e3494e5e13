using System.Diagnostics;
using System.Globalization;
using Platform.ML;
using Platform.Tokenizers;
using static TorchSharp.torch;

/// <summary>
/// The encoder-decoder on a deterministic task (dates "15 April 2023" rewritten as "2023-04-15", char tokens):
/// training tokens/s (source and target positions, padding excluded), then exact match and decoding speed of the
/// held-out pairs with greedy decoding (beam 1) and beam 4.
/// </summary>
static class Seq2SeqBench
{
    private static readonly string[] Months = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames[..12];

    /// <summary>count pairs (source, target), the same for the same seed.</summary>
    public static List<(string Source, string Target)> Dates(int count, int seed)
    {
        var random = new Random(seed);
        var start = new DateOnly(1950, 1, 1);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var date = start.AddDays(random.Next(0, 365 * 100));
            return ($"{date.Day} {Months[date.Month - 1]} {date.Year}",
                date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }).ToList();
    }

    public static void Run(int steps, int threads, string precision, double labelSmoothing, int count)
    {
        set_num_threads(threads);
        var pairs = Dates(count, 1);
        var held = count / 10;
        var tokenizer = CharTokenizer.Train([new StringReader(string.Concat(pairs.Select(p => p.Source + p.Target)))],
            PairSpecialIds.Tokens);
        var ids = PairSpecials.Of(tokenizer);
        var encoded = pairs.Select(p => (tokenizer.Encode(p.Source), tokenizer.Encode(p.Target))).ToList();
        var (trainPath, validationPath) = (Path.GetTempFileName(), Path.GetTempFileName());
        using (var s = File.Create(trainPath))
            PairFile.Write(s, encoded[..^held]);
        using (var s = File.Create(validationPath))
            PairFile.Write(s, encoded[^held..]);

        var config = new EncoderDecoderConfig(tokenizer.VocabSize, tokenizer.VocabSize, 2, 2, 4, 128, 32, 32, ids, ids);
        var options = new TrainerOptions
        {
            MaxSteps = steps,
            BatchSize = 32,
            LearningRate = 2e-3,
            MinLearningRate = 2e-4,
            WarmupSteps = 50,
            EvalInterval = Math.Max(steps / 4, 1),
            EvalIters = 5,
            LogInterval = 1,
            Seed = 1,
        };
        manual_seed(1);
        using var model = new EncoderDecoder(config with { ComputeType = MixedPrecision.Parse(precision) });
        using var train = PairBatches.FromFile(trainPath, config, CPU);
        using var validation = PairBatches.FromFile(validationPath, config, CPU);
        Console.WriteLine($"\n== encoder-decoder on dates: {model.parameters().Sum(p => p.numel()) / 1e6:F2} M " +
            $"parameters, {config.NEncoderLayer}+{config.NDecoderLayer} layers × " +
                          $"{config.NHead} heads × {config.NEmbd}, vocabulary {tokenizer.VocabSize}, {train.Count} " +
                          $"train / {validation.Count} held-out pairs, " +
                          $"batch {options.BatchSize}, {steps} steps, {threads} thread(s), {precision}, label " +
                          $"smoothing {labelSmoothing}");
        var observer = new BenchObserver(steps);
        var outcome = new Trainer(options).Train(new EncoderDecoderTraining(model, train, validation, labelSmoothing),
            observer, CancellationToken.None);
        var msPerStep = observer.StepMillis.Skip(5).DefaultIfEmpty(observer.StepMillis.Average()).Average();
        Console.WriteLine($"   {msPerStep:F1} ms/step, " +
            $"{options.BatchSize * train.MeanTokensPerPair * 1000 / msPerStep:N0} tokens/s " +
                          $"(source + decoder positions), wall {outcome.Elapsed.TotalSeconds:F1} s");
        foreach (var e in observer.Evals)
            Console.WriteLine($"   step {e.Step,5}: train loss {e.TrainLoss:F4}, val loss {e.ValidationLoss:F4}");

        // Decoding as Generation serves it, its decoder packed (PackedEncoderDecoder), and LibTorch's products beside.
        using var packed = PackedEncoderDecoder.Supports(model) ? new PackedEncoderDecoder(model) : null;
        foreach (var decoder in new[] { packed, null })
            for (var i = 0; i < 50; i++) // warm-up: the first pairs of either pay for compiling the code they run
            {
                using var session = new EncoderDecoderSession(model, [.. validation.Pair(i).Source, ids.Eos],
                    packed: decoder);
                BeamSearch.Search(session, ids, new BeamSearchOptions(4, 31, EarlyStopping: true));
            }
        foreach (var beams in new[] { 1, 4 })
            foreach (var decoder in packed is null ? [null] : new[] { packed, null })
            {
                var clock = Stopwatch.StartNew();
                int exact = 0, tokens = 0;
                for (var i = 0; i < validation.Count; i++)
                {
                    var (source, target) = validation.Pair(i);
                    using var session = new EncoderDecoderSession(model, [.. source, ids.Eos], packed: decoder);
                    var result = BeamSearch.Search(session, ids,
                        new BeamSearchOptions(beams, 31, EarlyStopping: true));
                    tokens += result.Tokens.Length + 1;
                    exact += result.Tokens.SequenceEqual(target) ? 1 : 0;
                }
                Console.WriteLine($"   beam {beams}, {(decoder is null ? "LibTorch" : "packed")}: exact match " +
                    $"{(double)exact / validation.Count:P1} of {validation.Count}, " +
                    $"{tokens / clock.Elapsed.TotalSeconds:N0} output tokens/s, " +
                    $"{clock.Elapsed.TotalMilliseconds / validation.Count:F1} ms a pair");
            }
        File.Delete(trainPath);
        File.Delete(validationPath);
    }
}
