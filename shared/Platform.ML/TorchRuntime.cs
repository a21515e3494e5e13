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
    /// What makes training speed differ between machines, in words: the CPU's vendor, model and the instruction sets
    /// LibTorch's kernels choose by (bf16 and AMX among them), the intra-op threads, and the GPUs when there are any.
    /// Machines with the same description train a shape at the same speed, as far as the choice of precision goes.
    /// </summary>
    public static string DescribeMachine(Device device, int threads)
    {
        var gpus = device.type == TorchSharp.DeviceType.CUDA ? $", {cuda.device_count()} CUDA device(s)" : "";
        return $"{Cpu.Value}, {threads} thread{(threads == 1 ? "" : "s")}{gpus}";
    }

    // The CPU in words, from the first processor's block of /proc/cpuinfo, read once: it does not change.
    private static readonly Lazy<string> Cpu = new(() =>
    {
        var block = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Trim().Length > 0).ToList()
            : [];
        string? Field(string name) => block
            .FirstOrDefault(l =>
                l.StartsWith(name, StringComparison.Ordinal) && l[name.Length..].TrimStart().StartsWith(':'))
            ?.Split(':', 2)[1].Trim();
        var flags = (Field("flags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var isa = new[] { "avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16" }.Where(flags.Contains);
        var vendor = Field("vendor_id") ?? RuntimeInformation.ProcessArchitecture.ToString();
        return $"{vendor} {Field("model name") ?? "CPU"} " +
               $"(family {Field("cpu family") ?? "?"}, model {Field("model") ?? "?"}; {string.Join(' ', isa)})";
    });

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
