using System.Security.Cryptography;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>A checkpoint and its tokenizer, ready to score or sample.</summary>
public sealed class LoadedModel(Gpt model, ITokenizer tokenizer) : IDisposable
{
    public Gpt Model { get; } = model;
    public ITokenizer Tokenizer { get; } = tokenizer;

    /// <summary>Loads a checkpoint after checking it is byte for byte the one that was registered.</summary>
    public static LoadedModel Load(string checkpointPath, string expectedSha256, string tokenizerPath, Device? device = null)
    {
        using (var stream = File.OpenRead(checkpointPath))
        {
            var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"Checkpoint {Path.GetFileName(checkpointPath)} has sha256 {actual}, expected {expectedSha256}: it was changed or corrupted.");
        }
        var tokenizer = TokenizerFile.Load(tokenizerPath);
        var model = Checkpoint.Load(checkpointPath, device);
        if (model.Config.VocabSize != tokenizer.VocabSize)
        {
            model.Dispose();
            throw new InvalidDataException($"Checkpoint vocabulary {model.Config.VocabSize} does not match its tokenizer's {tokenizer.VocabSize}.");
        }
        return new LoadedModel(model, tokenizer);
    }

    public void Dispose() => Model.Dispose();
}
