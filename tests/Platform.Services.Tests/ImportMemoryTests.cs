using Microsoft.Extensions.Options;
using Platform.ML;
using Training.Runs;
using static TorchSharp.torch;

namespace Platform.Services.Tests;

/// <summary>An import's model must fit in the worker's memory, as a run must: checked from its plan first.</summary>
public class ImportMemoryTests
{
    [Fact]
    public void An_import_needs_its_fp32_weights_and_its_largest_tensors_read_buffers_and_is_refused_over_the_limit()
    {
        var config = new GptConfig(VocabSize: 20, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 8);
        var path = Path.GetTempFileName();
        try
        {
            long parameters;
            using (var model = new Gpt(config))
            using (var file = File.Create(path))
            {
                SafetensorsExport.Write(model, file);
                parameters = model.parameters().Sum(p => p.numel());
            }
            var plan = GptImport.Plan(path, 20);
            // By hand: the largest tensor is the embedding padded to 64 rows × 8 (512 values): 2,048 bytes read, then
            // 2,048 bytes of fp32 values.
            Assert.Equal(parameters * 4 + 2048 + 2048, plan.PeakBytes);

            RunEstimator Worker(long limitMiB) =>
                new(Options.Create(new TrainingOptions { MemoryLimitMiB = limitMiB, BaselineMemoryMiB = 1 }));
            var roomy = Worker(2).Of(plan);
            Assert.Equal(plan.PeakBytes + (1 << 20), roomy.PeakBytes);
            Assert.True(roomy.PeakBytes <= roomy.LimitBytes);
            // The worker's baseline alone takes the whole MiB: a model of any size is over.
            var tight = Worker(1).Of(plan);
            Assert.True(tight.PeakBytes > tight.LimitBytes);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
