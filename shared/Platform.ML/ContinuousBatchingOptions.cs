namespace Platform.ML;

/// <summary>How a <see cref="ContinuousBatcher"/> sizes its batch and its queue.</summary>
public sealed record ContinuousBatchingOptions
{
    /// <summary>Memory the KV cache takes (allocated once): it sets how many sequences decode at once.</summary>
    public long CacheBytes { get; init; } = 512L << 20;

    /// <summary>Sequences decoded at once at most, whatever the cache could hold.</summary>
    public int MaxSequences { get; init; } = 64;

    /// <summary>
    /// Rows every decoding step computes at least (idle slots are padding) where LibTorch computes the matrix products
    /// (no <see cref="PackedWeights"/>, or a LoRA adapter). Below some row count the CPU's matrix product takes other
    /// paths (a matrix-vector kernel for one row, another split over threads for a few), whose rounding differs; from
    /// here on a row gets the same bits at any count, so a request's tokens do not depend on how many others decode
    /// beside it. The cache always has at least this many slots (beyond CacheBytes if need be), though fewer may be
    /// admitted.
    /// </summary>
    public int MinimumRows { get; init; } = 16;

    /// <summary>
    /// Decode with the model's weights packed (<see cref="PackedGpt"/>) where the model is fp32 on a CPU with 256-bit
    /// fused multiply-add: faster at every row count, and a row's result is the same at any count, so a base model's
    /// steps need no padding rows. The packed copy takes the weights' size again while the batch has work.
    /// </summary>
    public bool PackedWeights { get; init; } = true;

    /// <summary>
    /// Threads that share each large packed matrix product (<see cref="ProductWorkers"/>, the decoding thread
    /// included); the rest of a step runs on LibTorch's intra-op threads. They spin between a step's products, so they
    /// are best on cores LibTorch's threads do not use.
    /// </summary>
    public int ProductThreads { get; init; } = 1;

    /// <summary>Decode with the packed weights quantized to int8 (<see cref="PackedInt8Linear"/>): a quarter of the
    /// bytes each token reads, at the quality cost the version's evaluation reports as int8Loss.</summary>
    public bool Int8Weights { get; init; }

    /// <summary>
    /// Memory for the keys and values of prompt prefixes kept for reuse (<see cref="PrefixCache"/>), taken as blocks
    /// are stored and freed with the KV cache; 0 turns reuse off. Only with packed weights and no LoRA adapter, whose
    /// positions are the same bits however they were prefilled.
    /// </summary>
    public long PrefixCacheBytes { get; init; } = 128L << 20;

    /// <summary>
    /// Prompt positions one step prefills at most while other sequences decode, so that a long prompt arriving delays
    /// their next tokens by a chunk's time, not the whole prompt's. Only with packed weights and no LoRA adapter (see
    /// <see cref="PrefixCacheBytes"/>); otherwise, or when nothing decodes, a window is prefilled at once.
    /// </summary>
    public int PrefillChunkTokens { get; init; } = 64;

    /// <summary>
    /// Tokens drafted per step by prompt lookup (speculative decoding): where the context's last tokens occurred
    /// before, what followed them is verified in the same step as the sequence's own row, each drafted token that the
    /// sampler then picks saving a step. 0 turns it off. Only with packed weights and no LoRA adapter, whose rows are
    /// the same bits as plain steps', so the text is unchanged.
    /// </summary>
    public int SpeculativeTokens { get; init; } = 4;

    /// <summary>Requests waiting for slots at most; beyond, <see cref="ContinuousBatcher.TrySubmit"/>
    /// refuses.</summary>
    public int MaxWaiting { get; init; } = 16;

    /// <summary>How long the decoding thread waits for work before it ends and frees the cache.</summary>
    public TimeSpan IdleRelease { get; init; } = TimeSpan.FromSeconds(30);
}
