using Platform.ML;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// Memory over a long run: the small configuration for many steps, sampled every so often. Each sample prints RSS as
/// the system sees it, then, after a full collection, RSS less what the GC has committed (native memory), and the
/// live tensors. A leak climbs in every part of the run; a cache that fills levels off. The GC's gen0 budget (which
/// .NET sizes from the CPU's last-level cache) is printed too: it is what RSS alone moves by between collections.
/// </summary>
static class MemoryBench
{
    public static void Run(GptConfig config, TrainerOptions options, TokenBatches train, TokenBatches validation,
        int torchThreads, ScalarType? compute, int every)
    {
        set_num_threads(torchThreads);
        manual_seed(options.Seed);
        using var model = new Gpt(config with { ComputeType = compute });
        Console.WriteLine($"\n== memory over {options.MaxSteps:N0} steps: " +
                          $"{config.NLayer}×{config.NHead}×{config.NEmbd}, " +
                          $"block {config.BlockSize}, batch {options.BatchSize}, {torchThreads} intra-op thread(s), " +
                          $"{(compute is null ? "fp32" : "bf16")}, a sample every {every} steps");
        var gen0 = Convert.ToInt64(GC.GetConfigurationVariables().GetValueOrDefault("GCGen0MaxBudget", 0L));
        var gc = System.Runtime.GCSettings.IsServerGC ? "server" : "workstation";
        Console.WriteLine($"   GC: {gc}, gen0 budget at most {gen0 / 1048576.0:F1} MiB; " +
                          $"last-level cache as the system reports it: {LastLevelCache()}");
        Console.WriteLine("    step   RSS MiB  | after a full GC: native MiB  GC committed MiB  live tensors");
        var sampler = new Sampler(every);
        new Trainer(options).Train(model, train, validation, sampler, CancellationToken.None);
        sampler.Summarise();
    }

    private static string LastLevelCache()
    {
        const string folder = "/sys/devices/system/cpu/cpu0/cache";
        if (!Directory.Exists(folder))
            return $"none (no {folder})";
        static string Read(string dir, string file) => File.ReadAllText(Path.Combine(dir, file)).Trim();
        var last = Directory.GetDirectories(folder, "index*")
            .Select(d => (Level: Read(d, "level"), Size: Read(d, "size")))
            .MaxBy(c => c.Level);
        return $"L{last.Level} {last.Size}";
    }

    private sealed class Sampler(int every) : ITrainingObserver
    {
        private readonly List<(int Step, double NativeMiB)> _native = [];

        public void OnStep(StepReport report)
        {
            if (report.Step % every != 0 && report.Step != report.MaxSteps - 1)
                return;
            var rss = ResidentMiB();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var committed = GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0;
            var native = ResidentMiB() - committed;
            _native.Add((report.Step, native));
            var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            Console.WriteLine($"   {report.Step,6} {rss,9:F1}  | {native,27:F1} {committed,17:F1} {live,13}");
        }

        public void OnEval(EvalReport report) { }

        /// <summary>Native growth in each half after the first fifth (warm-up), and per step in the second.</summary>
        public void Summarise()
        {
            var measured = _native.Skip(_native.Count / 5).ToList();
            if (measured.Count < 4)
                return;
            var middle = measured.Count / 2;
            var (first, second) = (measured[..(middle + 1)], measured[middle..]);
            static double Growth(List<(int Step, double NativeMiB)> half) => half[^1].NativeMiB - half[0].NativeMiB;
            static string Steps(List<(int Step, double NativeMiB)> half) => $"steps {half[0].Step}–{half[^1].Step}";
            var perStep = Growth(second) * 1024 / Math.Max(1, second[^1].Step - second[0].Step);
            Console.WriteLine($"   native growth after warm-up: {Growth(first):+0.0;-0.0} MiB ({Steps(first)}), " +
                              $"{Growth(second):+0.0;-0.0} MiB ({Steps(second)}, {perStep:F2} KiB a step)");
        }

        private static double ResidentMiB()
        {
            var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:"));
            return long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
    }
}
