using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Security;

namespace Tokenization.Data;

/// <summary>A tokenizer built for a dataset, and the token files of the dataset's two splits.</summary>
public sealed class TokenizerRecord : IOwned, IListed
{
    public Guid Id { get; set; }
    public Guid DatasetId { get; set; }
    public string DatasetName { get; set; } = "";
    public Guid? OwnerId { get; set; }
    public string? OwnerName { get; set; }
    public string Kind { get; set; } = "";
    public int VocabSize { get; set; }
    public string TokenizerKey { get; set; } = "";
    public string TrainTokensKey { get; set; } = "";
    public string ValidationTokensKey { get; set; } = "";
    public string TokenDType { get; set; } = "";
    public long TrainTokens { get; set; }
    public long ValidationTokens { get; set; }
    public long TrainBytes { get; set; }
    public long ValidationBytes { get; set; }
    public long BuildMilliseconds { get; set; }
    /// <summary>"text"; "chat" (token files with loss masks); or "pairs": the token keys then name pair files and
    /// TokenizerKey is the target side's tokenizer.</summary>
    public string Format { get; set; } = Platform.Contracts.DatasetFormats.Text;
    /// <summary>Pairs with one tokenizer per side: the source side's tokenizer.</summary>
    public string? SourceTokenizerKey { get; set; }
    public int? SourceVocabSize { get; set; }
    public long? TrainPairs { get; set; }
    public long? ValidationPairs { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The dataset's text splits, kept so the dataset can be encoded again with another tokenizer.</summary>
    public string TrainTextKey { get; set; } = "";
    public string ValidationTextKey { get; set; } = "";

    /// <summary>A new record for a dataset's tokenizer, its files named under the tokenizer's prefix with the given
    /// extension.</summary>
    public static TokenizerRecord For(Guid id, Platform.Contracts.DatasetIngested dataset,
        Platform.Tokenizers.ITokenizer tokenizer, string fileExtension)
    {
        var prefix = PrefixOf(id);
        return new TokenizerRecord
        {
            Id = id,
            DatasetId = dataset.DatasetId,
            DatasetName = dataset.Name,
            OwnerId = dataset.Owner?.Id,
            OwnerName = dataset.Owner?.Name,
            Kind = tokenizer.Kind,
            VocabSize = tokenizer.VocabSize,
            TokenizerKey = $"{prefix}/tokenizer.json",
            TrainTokensKey = $"{prefix}/train.{fileExtension}",
            ValidationTokensKey = $"{prefix}/validation.{fileExtension}",
            TrainBytes = dataset.TrainBytes,
            ValidationBytes = dataset.ValidationBytes,
            TrainTextKey = dataset.TrainTextKey,
            ValidationTextKey = dataset.ValidationTextKey,
            CreatedAt = DateTimeOffset.UtcNow,
        };
    }

    /// <summary>The artifact prefix holding the tokenizer and both token files.</summary>
    public static string PrefixOf(Guid id) => $"tokenizers/{id:N}";
}

/// <summary>
/// A dataset's splits encoded with tokenizers not its own (a base version's, or another dataset's), kept under the
/// dataset tokenizer's prefix so deleting the dataset removes them too. A paired dataset's are pair files, their
/// sources encoded with SourceTokenizerKey ("" when the targets' tokenizer encodes both).
/// </summary>
public sealed class DatasetEncoding
{
    public Guid Id { get; set; }
    public Guid DatasetId { get; set; }
    public string TokenizerKey { get; set; } = "";
    public string SourceTokenizerKey { get; set; } = "";
    public int VocabSize { get; set; }
    public string TrainTokensKey { get; set; } = "";
    public string ValidationTokensKey { get; set; } = "";
    public long TrainTokens { get; set; }
    public long ValidationTokens { get; set; }
    public long ValidationBytes { get; set; }
    public long BuildMilliseconds { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A dataset that was deleted: nothing is built for it again, even if its ingestion event comes late or
/// twice.</summary>
public sealed class DeletedDataset
{
    public Guid DatasetId { get; set; }
    public DateTimeOffset DeletedAt { get; set; }
}
