using Microsoft.Extensions.Options;

namespace Generation.Serving;

/// <summary>
/// Bounds the work: MaxConcurrentGenerations decode at once, up to MaxQueuedGenerations more wait; beyond that a
/// request is refused at once (429 with Retry-After) rather than piling up. Waiting ends if the client leaves.
/// </summary>
public sealed class GenerationGate(IOptions<GenerationOptions> options)
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.MaxConcurrentGenerations));
    private int _admitted;

    /// <summary>A ticket to run, or null when both the slots and the queue are full.</summary>
    public Ticket? TryAdmit()
    {
        var limit = Math.Max(1, options.Value.MaxConcurrentGenerations) + Math.Max(0, options.Value.MaxQueuedGenerations);
        if (Interlocked.Increment(ref _admitted) > limit)
        {
            Interlocked.Decrement(ref _admitted);
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
        }

        public void Dispose()
        {
            if (_running)
                gate._slots.Release();
            Interlocked.Decrement(ref gate._admitted);
        }
    }
}
