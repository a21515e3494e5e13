namespace Training.Runs;

/// <summary>The training worker (section "Training").</summary>
public sealed class TrainingOptions
{
    /// <summary>
    /// LibTorch intra-op threads; ≤ 0: every core but one (at least one). The core left over runs the service's own
    /// threads (lease heartbeats, metrics, messaging, HTTP); when LibTorch's threads share every core with them, its
    /// parallel regions wait on descheduled threads (figures: docs/benchmarks.md).
    /// </summary>
    public int TorchThreads { get; set; }

    /// <summary>The intra-op threads a run uses: <see cref="TorchThreads"/>, or every core but one.</summary>
    public int IntraOpThreads => TorchThreads > 0 ? TorchThreads : Math.Max(1, Environment.ProcessorCount - 1);
    public int LogInterval { get; set; } = 10;
    /// <summary>
    /// A worker holds the run it trains for this long and renews it every third of it. A worker that dies is noticed
    /// when its lease expires: its run continues elsewhere (or after a restart) within LeaseSeconds + PollSeconds.
    /// </summary>
    public int LeaseSeconds { get; set; } = 30;
    /// <summary>How often an idle worker looks for queued runs and expired leases (a StartTraining message wakes it at
    /// once).</summary>
    public int PollSeconds { get; set; } = 5;
    /// <summary>A run whose worker dies this many times ends Failed instead of being taken again.</summary>
    public int MaxCrashes { get; set; } = 3;
    /// <summary>Names this worker in leases and logs; empty: host name and process id.</summary>
    public string WorkerId { get; set; } = "";

    /// <summary>Memory a run may use; 0: the cgroup's limit, or the machine's memory (what .NET reports as
    /// available).</summary>
    public long MemoryLimitMiB { get; set; }
    /// <summary>The worker's own resident memory before it trains (runtime, LibTorch, web server), added to every
    /// estimate.</summary>
    public long BaselineMemoryMiB { get; set; } = 400;

    public TimeSpan Lease => TimeSpan.FromSeconds(Math.Max(3, LeaseSeconds));
    public TimeSpan Poll => TimeSpan.FromSeconds(Math.Max(1, PollSeconds));
}
