namespace Generation.Serving;

public sealed class GenerationOptions
{
    public int TorchThreads { get; set; } = 1;
    /// <summary>Memory the loaded models' weights may use together (default 2 GiB); least recently used go
    /// first.</summary>
    public long ModelMemoryBudgetBytes { get; set; } = 2L << 30;
    public int MaxPromptCharacters { get; set; } = 8192;
    public int MaxNewTokens { get; set; } = 2048;
    public double MaxTemperature { get; set; } = 5.0;
    /// <summary>
    /// Encoder-decoder generations and explanations running at once (GPTs decode in continuous batches instead); up to
    /// MaxQueuedGenerations more wait their turn, the rest get 429.
    /// </summary>
    public int MaxConcurrentGenerations { get; set; } = 2;
    /// <summary>Requests waiting for a slot, per continuous batch and for the encoder-decoder slots; beyond,
    /// 429.</summary>
    public int MaxQueuedGenerations { get; set; } = 16;
    /// <summary>The KV cache of one GPT's continuous batch (default 512 MiB): with the model's shape it sets the
    /// sequences decoded at once.</summary>
    public long KvCacheBytes { get; set; } = 512L << 20;
    /// <summary>Sequences a continuous batch decodes at once at most.</summary>
    public int MaxBatchSequences { get; set; } = 64;
    /// <summary>
    /// Rows a decoding step computes at least where LibTorch computes its products (no packed weights, or a LoRA
    /// adapter), so a request's tokens do not depend on the load (see ContinuousBatchingOptions.MinimumRows).
    /// </summary>
    public int MinimumDecodeRows { get; set; } = 16;
    /// <summary>Decode fp32 GPTs with their weights packed (ContinuousBatchingOptions.PackedWeights): a second copy of
    /// the weights while a batch has work; and encoder-decoders with their decoder packed (PackedEncoderDecoder), a
    /// copy of the decoder's weights while the model is loaded.</summary>
    public bool PackedDecoding { get; set; } = true;
    /// <summary>
    /// Threads that share each large packed product of a decoding step, the batch's own thread included
    /// (ContinuousBatchingOptions.ProductThreads). They spin between a step's products, so give them cores that
    /// TorchThreads and the other services do not use.
    /// </summary>
    public int DecodeProductThreads { get; set; } = 1;
    /// <summary>Decode fp32 GPTs with their packed weights quantized to int8 (ContinuousBatchingOptions.Int8Weights):
    /// a quarter of the bytes a token reads; each version's evaluation reports the quality cost as int8Loss.</summary>
    public bool Int8Decoding { get; set; }
    /// <summary>Memory per model for the keys and values of prompt prefixes kept for reuse, such as a system prompt
    /// (ContinuousBatchingOptions.PrefixCacheBytes; default 128 MiB, 0 turns reuse off).</summary>
    public long PrefixCacheBytes { get; set; } = 128L << 20;
    /// <summary>Prompt positions a step prefills at most while other sequences decode
    /// (ContinuousBatchingOptions.PrefillChunkTokens).</summary>
    public int PrefillChunkTokens { get; set; } = 64;
    /// <summary>Tokens drafted per step by prompt lookup, verified in the same step
    /// (ContinuousBatchingOptions.SpeculativeTokens; 0 turns speculative decoding off).</summary>
    public int SpeculativeTokens { get; set; } = 4;
    /// <summary>Completions per request (OpenAI's n).</summary>
    public int MaxCompletionsPerRequest { get; set; } = 8;
    /// <summary>Positions (prompt and target tokens) an explanation covers at most; more answer 413.</summary>
    public int MaxExplainTokens { get; set; } = 256;
    /// <summary>Attention weights an explanation returns at most (layers × heads × positions² over every map; 4 M is
    /// about 40 MB of JSON).</summary>
    public long MaxExplainAttentionValues { get; set; } = 4_000_000;
}
