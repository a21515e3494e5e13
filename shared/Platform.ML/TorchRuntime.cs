using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>Process-wide TorchSharp settings: intra-op threads and the device (CUDA when present, else CPU).</summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static Device? _device;

    /// <summary>
    /// threads ≤ 0 leaves LibTorch's default. At the platform's small model sizes one thread is often faster
    /// than two (less synchronisation), hence a setting rather than a constant.
    /// </summary>
    public static Device Initialise(int threads)
    {
        lock (Gate)
        {
            if (_device is not null)
                return _device;
            if (threads > 0)
                set_num_threads(threads);
            _device = cuda.is_available() ? CUDA : CPU;
            return _device;
        }
    }
}
