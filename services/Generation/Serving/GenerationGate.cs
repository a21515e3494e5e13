using Microsoft.Extensions.Options;

namespace Generation.Serving;

/// <summary>Bounds how many generations use the CPU at once; the rest wait (and give up if the client leaves).</summary>
public sealed class GenerationGate(IOptions<GenerationOptions> options)
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.MaxConcurrentGenerations));

    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return await Task.Run(work, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }
}
