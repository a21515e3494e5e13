using System.IO.MemoryMappedFiles;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Random windows of blockSize + 1 tokens from a split, as (x, y) with y shifted by one. A token file is
/// memory-mapped, so memory does not grow with the corpus: each batch copies just its B windows into one
/// buffer and becomes one tensor (no per-sample tensors). Window starts come from the seeded generator.
/// </summary>
public sealed class TokenBatches : IDisposable
{
    private readonly ITokenSource _source;
    private readonly Device _device;

    public long Length => _source.Length;
    public int BlockSize { get; }

    public TokenBatches(int[] ids, int blockSize, Device device) : this(new ArrayTokens(ids), blockSize, device)
    {
    }

    private TokenBatches(ITokenSource source, int blockSize, Device device)
    {
        if (source.Length < blockSize + 2)
        {
            source.Dispose();
            throw new ArgumentException($"{source.Length} tokens are too few for windows of {blockSize + 1}: need at " +
                $"least {blockSize + 2}.");
        }
        (_source, BlockSize, _device) = (source, blockSize, device);
    }

    /// <summary>A token file written by the tokenization service (its sidecar names the dtype),
    /// memory-mapped.</summary>
    public static TokenBatches FromFile(string path, int blockSize, Device device) =>
        new(new MappedTokens(path, TokenFileInfo.ReadVerified(path)), blockSize, device);

    /// <summary>Random (x, y), each (batch, blockSize); the caller's dispose scope owns them.</summary>
    public (Tensor X, Tensor Y) Sample(int batchSize, Generator generator)
    {
        using var starts = randint(0, Length - BlockSize - 1, [batchSize], dtype: ScalarType.Int64,
            generator: generator);
        return At(starts.data<long>().ToArray());
    }

    /// <summary>The windows starting at the given offsets (deterministic evaluation).</summary>
    public (Tensor X, Tensor Y) At(long[] starts)
    {
        var window = BlockSize + 1;
        var buffer = new long[starts.Length * window];
        for (var i = 0; i < starts.Length; i++)
            _source.Read(starts[i], buffer.AsSpan(i * window, window));
        var windows = tensor(buffer, [starts.Length, window]);
        return (windows[.., ..BlockSize].to(_device), windows[.., 1..].to(_device));
    }

    public void Dispose() => _source.Dispose();

    private interface ITokenSource : IDisposable
    {
        long Length { get; }
        void Read(long start, Span<long> destination);
    }

    private sealed class ArrayTokens(int[] ids) : ITokenSource
    {
        public long Length => ids.Length;

        public void Read(long start, Span<long> destination)
        {
            var source = ids.AsSpan((int)start, destination.Length);
            for (var i = 0; i < source.Length; i++)
                destination[i] = source[i];
        }

        public void Dispose() { }
    }

    private sealed class MappedTokens : ITokenSource
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;
        private readonly TokenFileInfo _info;

        public MappedTokens(string path, TokenFileInfo info)
        {
            _info = info;
            _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }

        public long Length => _info.Count;

        public void Read(long start, Span<long> destination)
        {
            var offset = start * _info.BytesPerToken;
            for (var i = 0; i < destination.Length; i++, offset += _info.BytesPerToken)
                destination[i] = _info.DType == TokenDType.UInt16 ? _view.ReadUInt16(offset) : _view.ReadUInt32(offset);
        }

        public void Dispose()
        {
            _view.Dispose();
            _file.Dispose();
        }
    }
}
