using Microsoft.Extensions.Options;

namespace Generation.Serving;

/// <summary>
/// Bounds the work: MaxConcurrentGenerations decode at once, up to MaxQueuedGenerations more wait; beyond that a
/// request is refused at once (429 with Retry-After) rather than piling up. Waiting ends if the client leaves.
/// </summary>
public sealed class GenerationGate : IDisposable
{
    private readonly IOptions<GenerationOptions> options;
    private readonly SemaphoreSlim _slots;
    private int _admitted;
    private int _running;

    public GenerationGate(IOptions<GenerationOptions> options, GenerationMetrics metrics)
    {
        this.options = options;
        Metrics = metrics;
        _slots = new SemaphoreSlim(Math.Max(1, options.Value.MaxConcurrentGenerations));
        metrics.Meter.CreateObservableGauge("platform.generation.running", () => Volatile.Read(ref _running),
            "{request}", "Generations decoding now");
        metrics.Meter.CreateObservableGauge("platform.generation.queued", () =>
            Math.Max(0, Volatile.Read(ref _admitted) - Volatile.Read(ref _running)),
            "{request}", "Generations waiting for a decoding slot");
    }

    public GenerationMetrics Metrics { get; }

    public void Dispose() => _slots.Dispose();

    /// <summary>A ticket to run, or null when both the slots and the queue are full.</summary>
    public Ticket? TryAdmit()
    {
        var limit = Math.Max(1, options.Value.MaxConcurrentGenerations)
            + Math.Max(0, options.Value.MaxQueuedGenerations);
        if (Interlocked.Increment(ref _admitted) > limit)
        {
            Interlocked.Decrement(ref _admitted);
            Metrics.Rejected();
            return null;
        }
        return new Ticket(this);
    }

    public sealed class Ticket(GenerationGate gate) : IDisposable
    {
        private bool _running;

        /// <summary>Waits for a decoding slot.</summary>
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await gate._slots.WaitAsync(cancellationToken);
            _running = true;
            Interlocked.Increment(ref gate._running);
        }

        public void Dispose()
        {
            if (_running)
            {
                Interlocked.Decrement(ref gate._running);
                gate._slots.Release();
            }
            Interlocked.Decrement(ref gate._admitted);
        }
    }
}
