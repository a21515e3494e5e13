using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// A split's token ids as one int64 tensor; a batch is B random windows of blockSize + 1 tokens taken with
/// a single gather (no per-sample tensors), x the first blockSize ids and y the same shifted by one.
/// </summary>
public sealed class TokenBatches : IDisposable
{
    private readonly Tensor _data;
    private readonly Tensor _window;
    private readonly Device _device;

    public long Length { get; }

    public TokenBatches(int[] ids, int blockSize, Device device)
    {
        if (ids.Length < blockSize + 2)
            throw new ArgumentException($"{ids.Length} tokens are too few for windows of {blockSize + 1}: need at least {blockSize + 2}.");
        _device = device;
        Length = ids.Length;
        _data = tensor(ids.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64);
        _window = arange(blockSize + 1, dtype: ScalarType.Int64).unsqueeze(0);
    }

    public static TokenBatches FromFile(string path, int blockSize, Device device) =>
        new(TokenFile.ReadAll(path), blockSize, device);

    public int BlockSize => (int)_window.shape[1] - 1;

    /// <summary>Random (x, y), each (batch, blockSize); the caller's dispose scope owns them.</summary>
    public (Tensor X, Tensor Y) Sample(int batchSize, Generator generator)
    {
        var starts = randint(0, Length - BlockSize - 1, [batchSize], dtype: ScalarType.Int64, generator: generator);
        return Split(take(_data, starts.unsqueeze(1) + _window));
    }

    /// <summary>Consecutive windows starting at the given offsets (deterministic evaluation).</summary>
    public (Tensor X, Tensor Y) At(long[] starts) =>
        Split(take(_data, tensor(starts, dtype: ScalarType.Int64).unsqueeze(1) + _window));

    private (Tensor X, Tensor Y) Split(Tensor windows)
    {
        var x = windows[.., ..BlockSize];
        var y = windows[.., 1..];
        return (x.to(_device), y.to(_device));
    }

    public void Dispose()
    {
        _data.Dispose();
        _window.Dispose();
    }
}
