using Platform.ServiceDefaults.Security;
using Tokenization.Data;

namespace Tokenization.Consumers;

/// <summary>Follows who may read each dataset, and so its tokenizer.</summary>
public sealed class DatasetSharingChangedConsumer(TokenizationDbContext db)
    : DatasetReachProjector<TokenizationDbContext>(db);
