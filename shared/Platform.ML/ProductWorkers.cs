namespace Platform.ML;

/// <summary>
/// Threads of its own that share one packed matrix product at a time with the caller (<see cref="IPackedLinear"/>).
/// A decoding step runs dozens of products with a little LibTorch work between them; waking pool threads for each
/// would cost more than a one-row product of a small model takes. So the workers spin for a while after each product,
/// ready for the next, and block once no product has come for <see cref="SpinTime"/>, so an idle server does not burn
/// its cores. One product at a time: the caller (a batch's decoding thread) runs them in turn.
/// </summary>
public sealed class ProductWorkers : IDisposable
{
    /// <summary>How long a worker waits for the next product before it blocks.</summary>
    public static readonly TimeSpan SpinTime = TimeSpan.FromMilliseconds(2);

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private Action<int>? _work;
    private long _generation;
    private int _remaining;
    private int _sleeping;
    private volatile bool _disposed;

    /// <param name="threads">Threads in all, the caller's included: <paramref name="threads"/> − 1 are
    /// started.</param>
    public ProductWorkers(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _threads = [.. Enumerable.Range(1, threads - 1).Select(part => new Thread(() => Loop(part))
        {
            IsBackground = true,
            Name = $"packed products {part}",
        })];
        foreach (var thread in _threads)
            thread.Start();
    }

    public int Threads { get; }

    /// <summary>Matrices of at least this many weights are shared among the workers; a smaller one costs less alone
    /// than handed out.</summary>
    public const long SharedWeights = 1 << 20;

    /// <summary>
    /// Runs panels 0..<paramref name="panels"/>−1 of a product through <paramref name="run"/> (first, end): on the
    /// caller alone without workers or for a matrix under <see cref="SharedWeights"/>, else in whole panels per thread.
    /// Every output element is one panel's own chain of multiply-adds, so the result is the same bit for bit however
    /// many threads share the work.
    /// </summary>
    public static void Share(ProductWorkers? workers, int panels, long weights, Action<int, int> run)
    {
        var parts = workers is not null && weights >= SharedWeights ? workers.Threads : 1;
        if (parts == 1 || panels < parts)
            run(0, panels);
        else
            workers!.Run(part => run(panels * part / parts, panels * (part + 1) / parts));
    }

    /// <summary>Runs <paramref name="work"/> for parts 0..<see cref="Threads"/>−1 at once, part 0 on the calling
    /// thread, and returns when every part has.</summary>
    public void Run(Action<int> work)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Threads == 1)
        {
            work(0);
            return;
        }
        _work = work;
        Volatile.Write(ref _remaining, Threads - 1);
        Interlocked.Increment(ref _generation);
        if (Volatile.Read(ref _sleeping) > 0)
            lock (_gate)
                Monitor.PulseAll(_gate);
        work(0);
        var spin = new SpinWait();
        while (Volatile.Read(ref _remaining) > 0)
            spin.SpinOnce(sleep1Threshold: -1);
    }

    private void Loop(int part)
    {
        long seen = 0;
        while (true)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var spin = new SpinWait();
            while (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                if (clock.Elapsed < SpinTime)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }
                // Announce the sleep, then look again under the lock a product's pulse takes: the product posted
                // before the announcement is seen here, one posted after it sees the announcement and pulses.
                Interlocked.Increment(ref _sleeping);
                lock (_gate)
                    while (Volatile.Read(ref _generation) == seen && !_disposed)
                        Monitor.Wait(_gate);
                Interlocked.Decrement(ref _sleeping);
                clock.Restart();
            }
            if (_disposed)
                return;
            seen = Volatile.Read(ref _generation);
            _work!(part);
            Interlocked.Decrement(ref _remaining);
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        lock (_gate)
            Monitor.PulseAll(_gate);
        foreach (var thread in _threads)
            thread.Join();
    }
}
