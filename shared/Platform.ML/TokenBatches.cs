using System.IO.MemoryMappedFiles;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Random windows of blockSize + 1 tokens from a split, as (x, y) with y shifted by one. A token file is
/// memory-mapped, so memory does not grow with the corpus: each batch copies just its B windows into one
/// buffer and becomes one tensor (no per-sample tensors). Window starts come from the seeded generator. A token file
/// with a loss mask (a conversation dataset's) gives <see cref="IgnoredTarget"/> as the target wherever the mask
/// leaves the token out of the loss, so only the assistant's replies are learned.
/// </summary>
public sealed class TokenBatches : IDisposable
{
    /// <summary>The target id <see cref="Gpt.Loss"/> skips.</summary>
    public const long IgnoredTarget = -1;

    private readonly ITokenSource _source;
    private readonly MappedMask? _mask;
    private readonly Device _device;

    public long Length => _source.Length;
    public int BlockSize { get; }

    /// <param name="trained">Per token, whether the loss covers it as a target (null: every token).</param>
    public TokenBatches(int[] ids, int blockSize, Device device, bool[]? trained = null)
        : this(new ArrayTokens(ids), trained is null ? null : new MappedMask(trained), blockSize, device)
    {
    }

    private TokenBatches(ITokenSource source, MappedMask? mask, int blockSize, Device device)
    {
        if (source.Length < blockSize + 2)
        {
            source.Dispose();
            mask?.Dispose();
            throw new ArgumentException($"{source.Length} tokens are too few for windows of {blockSize + 1}: need at " +
                $"least {blockSize + 2}.");
        }
        (_source, _mask, BlockSize, _device) = (source, mask, blockSize, device);
    }

    /// <summary>A token file written by the tokenization service (its sidecar names the dtype, and whether a loss
    /// mask lies beside it), memory-mapped.</summary>
    public static TokenBatches FromFile(string path, int blockSize, Device device)
    {
        var info = TokenFileInfo.ReadVerified(path);
        return new(new MappedTokens(path, info), info.LossMask ? new MappedMask(TokenFileInfo.MaskPath(path)) : null,
            blockSize, device);
    }

    /// <summary>Whether some targets are left out of the loss.</summary>
    public bool IsMasked => _mask is not null;

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
        using var windows = tensor(buffer, [starts.Length, window]);
        if (_mask is null)
            return (windows[.., ..BlockSize].to(_device), windows[.., 1..].to(_device));
        var targets = new long[starts.Length * BlockSize];
        for (var i = 0; i < starts.Length; i++)
            for (var t = 0; t < BlockSize; t++)
                targets[i * BlockSize + t] = _mask.Trains(starts[i] + t + 1) ? buffer[i * window + t + 1]
                    : IgnoredTarget;
        return (windows[.., ..BlockSize].to(_device), tensor(targets, [starts.Length, BlockSize]).to(_device));
    }

    public void Dispose()
    {
        _source.Dispose();
        _mask?.Dispose();
    }

    /// <summary>One byte per token, <see cref="TokenFileInfo.Trained"/> where the token is a trained target.</summary>
    private sealed class MappedMask : IDisposable
    {
        private readonly bool[]? _array;
        private readonly MemoryMappedFile? _file;
        private readonly MemoryMappedViewAccessor? _view;

        public MappedMask(bool[] trained) => _array = trained;

        public MappedMask(string path)
        {
            _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }

        public bool Trains(long index) => _array?[index] ?? _view!.ReadByte(index) == TokenFileInfo.Trained;

        public void Dispose()
        {
            _view?.Dispose();
            _file?.Dispose();
        }
    }

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
