using Platform.ServiceDefaults.Http;
using Platform.Contracts;
using Platform.ServiceDefaults.Security;

namespace Ingestion.Data;

/// <summary>Ingested (stored and split) → Tokenized | Failed; any of them → Deleted (its files removed, it answers
/// 404).</summary>
public enum DatasetState { Ingested, Tokenized, Failed, Deleted }

/// <summary>What was redacted from an upload: the kinds asked for and how many of each were replaced (never the
/// values).</summary>
public sealed class RedactionSummary
{
    public List<string> Kinds { get; set; } = [];
    public long Email { get; set; }
    public long Phone { get; set; }
    public long Ip { get; set; }
    public long CreditCard { get; set; }
    public long CnId { get; set; }
}

/// <summary>A paired dataset's pair counts and side lengths (characters).</summary>
public sealed class PairSummary
{
    public long Pairs { get; set; }
    public long TrainPairs { get; set; }
    public long ValidationPairs { get; set; }
    public double MeanSourceCharacters { get; set; }
    public int MaxSourceCharacters { get; set; }
    public double MeanTargetCharacters { get; set; }
    public int MaxTargetCharacters { get; set; }
}

/// <summary>A conversation dataset's counts: conversations in each split, and turns and characters per
/// role.</summary>
public sealed class ChatSummary
{
    public long Conversations { get; set; }
    public long TrainConversations { get; set; }
    public long ValidationConversations { get; set; }
    public Dictionary<string, long> Turns { get; set; } = [];
    public Dictionary<string, long> Characters { get; set; } = [];

    public void Add(IReadOnlyList<Platform.Tokenizers.ChatMessage> conversation)
    {
        Conversations++;
        foreach (var message in conversation)
        {
            Turns[message.Role] = Turns.GetValueOrDefault(message.Role) + 1;
            Characters[message.Role] = Characters.GetValueOrDefault(message.Role) + message.Content.Length;
        }
    }
}

public sealed class Dataset : IOwned, IListed
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public DatasetState State { get; private set; }
    public string? FailureReason { get; private set; }
    public Guid? OwnerId { get; set; }
    public string? OwnerName { get; set; }
    public string Sha256 { get; set; } = "";
    public long Bytes { get; set; }
    public long Characters { get; set; }
    public long Lines { get; set; }
    public double ValidationFraction { get; set; }
    public long TrainBytes { get; set; }
    public long ValidationBytes { get; set; }
    public string CorpusKey { get; set; } = "";
    public string TrainKey { get; set; } = "";
    public string ValidationKey { get; set; } = "";
    public string TokenizerKind { get; set; } = TokenizerKinds.Char;
    public Guid? TokenizerId { get; private set; }
    public int? VocabSize { get; private set; }
    public long? TrainTokens { get; private set; }
    public long? ValidationTokens { get; private set; }
    public Guid? AutoTrainRunId { get; set; }
    public RedactionSummary? Redaction { get; set; }
    /// <summary>"text" or "pairs" (see <see cref="DatasetFormats"/>).</summary>
    public string Format { get; set; } = DatasetFormats.Text;
    public PairSummary? Pairs { get; set; }
    /// <summary>A conversation dataset's counts (null for other formats).</summary>
    public ChatSummary? Chat { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; private set; }
    public DateTimeOffset? DeletedAt { get; private set; }
    public string? DeletedBy { get; private set; }
    /// <summary>Shared with every key; otherwise only with <see cref="Readers"/> (besides its owner and
    /// admins).</summary>
    public bool SharedWithEveryone { get; private set; }
    public List<Guid> Readers { get; private set; } = [];
    /// <summary>Grows with each sharing change; 0 for a dataset whose reach was never announced (it predates
    /// sharing).</summary>
    public long SharingSequence { get; private set; }

    /// <summary>The artifact prefix holding the corpus, its splits and an uploaded tokenizer.</summary>
    public static string PrefixOf(Guid id) => $"datasets/{id:N}";

    public bool IsDeleted => State == DatasetState.Deleted;

    /// <summary>A new dataset whose corpus has been stored and split (text splits as .txt, pair splits as JSON
    /// lines).</summary>
    public static Dataset Ingested(Guid id, string name, Caller owner, DateTimeOffset at,
        string format = DatasetFormats.Text) => new()
        {
            Id = id,
            Name = name,
            State = DatasetState.Ingested,
            OwnerId = owner.KeyId,
            OwnerName = owner.Name,
            Format = format,
            CorpusKey = $"{PrefixOf(id)}/corpus.txt",
            TrainKey = $"{PrefixOf(id)}/train.{(DatasetFormats.IsJsonLines(format) ? "jsonl" : "txt")}",
            ValidationKey = $"{PrefixOf(id)}/validation.{(DatasetFormats.IsJsonLines(format) ? "jsonl" : "txt")}",
            CreatedAt = at,
            UpdatedAt = at,
            SharingSequence = 1,
        };

    /// <summary>Replaces whom the dataset is shared with (its owner is never listed: it always reads).</summary>
    public void Share(bool everyone, IEnumerable<Guid> readers)
    {
        if (IsDeleted)
            throw new InvalidOperationException($"Dataset {Id} is deleted.");
        SharedWithEveryone = everyone;
        Readers = readers.Where(r => r != OwnerId && r != Caller.ServiceKeyId).Distinct().ToList();
        SharingSequence++;
        UpdatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>The reach as the other services learn it.</summary>
    public DatasetSharingChanged SharingChanged() =>
        new(Id, OwnerId, SharedWithEveryone, Readers.ToList(), SharingSequence, UpdatedAt);

    /// <summary>A dataset from before sharing: announced once, private to its owner, as every new one starts.</summary>
    public DatasetSharingChanged AnnounceReach()
    {
        SharingSequence = Math.Max(SharingSequence, 1);
        return SharingChanged();
    }

    /// <summary>Tokenization finished; a repeat or a late event for a dataset already past it changes
    /// nothing.</summary>
    public bool MarkTokenized(DatasetTokenized m)
    {
        if (State != DatasetState.Ingested)
            return false;
        State = DatasetState.Tokenized;
        FailureReason = null;
        (TokenizerId, TokenizerKind, VocabSize, TrainTokens, ValidationTokens) = (m.TokenizerId, m.TokenizerKind,
            m.VocabSize, m.TrainTokens, m.ValidationTokens);
        UpdatedAt = DateTimeOffset.UtcNow;
        return true;
    }

    public bool MarkFailed(string reason)
    {
        if (State != DatasetState.Ingested)
            return false;
        State = DatasetState.Failed;
        FailureReason = reason;
        UpdatedAt = DateTimeOffset.UtcNow;
        return true;
    }

    public void Delete(Caller by)
    {
        if (IsDeleted)
            throw new InvalidOperationException($"Dataset {Id} is already deleted.");
        State = DatasetState.Deleted;
        DeletedAt = UpdatedAt = DateTimeOffset.UtcNow;
        DeletedBy = by.Name;
    }
}
