using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Platform.Tokenizers;

public enum TokenDType { UInt16, UInt32 }

/// <summary>
/// Sidecar of a token file ("{file}.json"): how to read the raw little-endian ids beside it. With
/// <paramref name="LossMask"/>, a mask file ("{file}.mask") lies beside it too: one byte per token,
/// <see cref="Trained"/> where the token is a target the loss covers (a conversation's assistant replies), else
/// context: <see cref="ConversationStart"/> on each conversation's first token, 0 elsewhere.
/// </summary>
public sealed record TokenFileInfo(TokenDType DType, long Count, int VocabSize, Guid TokenizerId,
    bool LossMask = false)
{
    public const string MaskSuffix = ".mask";
    public const byte Context = 0, Trained = 1, ConversationStart = 2;

    public static string MaskPath(string tokenFilePath) => tokenFilePath + MaskSuffix;

    public static TokenDType DTypeFor(int vocabSize) => vocabSize <= ushort.MaxValue + 1 ? TokenDType.UInt16
        : TokenDType.UInt32;

    public int BytesPerToken => DType == TokenDType.UInt16 ? 2 : 4;

    public static string SidecarPath(string tokenFilePath) => tokenFilePath + ".json";

    public static TokenFileInfo Read(string tokenFilePath) =>
        JsonSerializer.Deserialize<TokenFileInfo>(File.ReadAllText(SidecarPath(tokenFilePath)))
        ?? throw new InvalidDataException($"Empty sidecar for {tokenFilePath}.");

    /// <summary>The sidecar, after checking the token file holds exactly the ids it announces.</summary>
    public static TokenFileInfo ReadVerified(string tokenFilePath)
    {
        var info = Read(tokenFilePath);
        var bytes = new FileInfo(tokenFilePath).Length;
        if (bytes != info.Count * info.BytesPerToken)
            throw new InvalidDataException($"{tokenFilePath} holds {bytes} bytes, its sidecar says {info.Count} " +
                $"{info.DType} ids.");
        if (info.LossMask && (File.Exists(MaskPath(tokenFilePath)) ? new FileInfo(MaskPath(tokenFilePath)).Length
                : -1) != info.Count)
            throw new InvalidDataException($"{tokenFilePath}'s loss mask is missing or does not hold {info.Count} " +
                "bytes.");
        return info;
    }

    public void Write(Stream stream) => JsonSerializer.Serialize(stream, this);
}

/// <summary>Writes ids as raw little-endian uint16 (vocabulary up to 65,536) or uint32.</summary>
public sealed class TokenFileWriter(Stream stream, TokenDType dtype) : IDisposable
{
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _used;
    public long Count { get; private set; }

    public void Write(ReadOnlySpan<int> ids)
    {
        var size = dtype == TokenDType.UInt16 ? 2 : 4;
        foreach (var id in ids)
        {
            if (_used + size > _buffer.Length)
                Flush();
            if (dtype == TokenDType.UInt16)
                BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_used), checked((ushort)id));
            else
                BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_used), checked((uint)id));
            _used += size;
        }
        Count += ids.Length;
    }

    public void Flush()
    {
        stream.Write(_buffer, 0, _used);
        _used = 0;
    }

    public void Dispose() => Flush();
}

public static class TokenFile
{
    /// <summary>Reads every id of a token file (sidecar beside it) into memory; training memory-maps instead.</summary>
    public static int[] ReadAll(string path)
    {
        var info = TokenFileInfo.ReadVerified(path);
        var bytes = File.ReadAllBytes(path);
        var ids = new int[info.Count];
        if (info.DType == TokenDType.UInt16)
        {
            var src = MemoryMarshal.Cast<byte, ushort>(bytes);
            for (var i = 0; i < ids.Length; i++)
                ids[i] = src[i];
        }
        else
        {
            MemoryMarshal.Cast<byte, int>(bytes).CopyTo(ids);
        }
        return ids;
    }
}
