using Platform.ML;
using static TorchSharp.torch;

namespace Platform.ML.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void Freed_memory_goes_back_through_whichever_allocator_the_process_runs_on()
    {
        // Under jemalloc (the training service's allocator) its purge, under glibc malloc_trim: never neither.
        using (var scope = NewDisposeScope())
            _ = ones(64, 1024, 1024);
        var expected = File.ReadAllText("/proc/self/maps").Contains("libjemalloc") ? "jemalloc purge" : "malloc_trim";
        Assert.Equal(expected, TorchRuntime.ReleaseFreeMemory());
    }
}
