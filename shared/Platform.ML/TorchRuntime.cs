using System.Runtime.InteropServices;
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

    /// <summary>
    /// Hands memory that a finished run freed back to the system. Training runs on jemalloc set to keep freed
    /// pages for reuse (infra/env.sh: reusing them is what makes it fast), so without this a trainer would hold
    /// its peak between runs; under glibc's malloc this trims what the heap can give back. Returns which ran.
    /// </summary>
    public static unsafe string ReleaseFreeMemory()
    {
        var process = NativeLibrary.GetMainProgramHandle();
        if (NativeLibrary.TryGetExport(process, "mallctl", out var mallctl))
        {
            // MALLCTL_ARENAS_ALL (4096): every arena.
            fixed (byte* name = "arena.4096.purge\0"u8)
                ((delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int>)mallctl)(name, null, null, null, 0);
            return "jemalloc purge";
        }
        if (NativeLibrary.TryGetExport(process, "malloc_trim", out var trim))
        {
            ((delegate* unmanaged<nuint, int>)trim)(0);
            return "malloc_trim";
        }
        return "none";
    }
}
