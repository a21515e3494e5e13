using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// Continuous batching for one GPT (with its LoRA adapter, if any): every sequence in flight advances by one token per
/// step, and all of them that are past their prefill go through the model as one batch. A request's sequences join at
/// the next step once there are slots for all of them, and each leaves as soon as it ends, its slot going to the next
/// waiting request (FIFO). Each keeps its own sampling settings, seed, penalties and UTF-8 guard, and the window policy
/// of <see cref="Sampler"/> (a full window keeps its newest half and is prefilled again).
/// <para>
/// A request's tokens do not depend on what decodes beside it: a decoding step computes its matrix products with packed
/// weights (<see cref="PackedGpt"/>), whose rows are exact at any count, or else at least
/// <see cref="ContinuousBatchingOptions.MinimumRows"/> rows; it attends over whole runs of 64 positions (masked), and
/// each sequence draws from its own seeded generator. With packed weights and no adapter a prompt's positions are
/// computed as decoding rows are, so they may be prefilled in chunks between other sequences' steps and start from a
/// prefix restored from the <see cref="PrefixCache"/>; otherwise a window is prefilled alone and at once.
/// </para>
/// Work runs on one dedicated thread, started by the first request and ended (freeing the cache) after
/// <see cref="ContinuousBatchingOptions.IdleRelease"/> without work.
/// </summary>
public sealed class ContinuousBatcher : IDisposable
{
    private readonly Gpt _model;
    private readonly LoraAdapter? _adapter;
    private readonly Utf8Constraint? _utf8;
    private readonly ContinuousBatchingOptions _options;
    private readonly Device _device;
    private readonly ScalarType _cacheType;
    // A plain object: the decoding thread waits on it (Monitor.Wait) for work.
    private readonly object _lock = new();
    private readonly Queue<DecodingSequence[]> _waiting = new();
    private readonly DecodingSequence?[] _slots;
    /// <summary>Rows of the cache: the capacity, and at least MinimumRows (the padding rows write there too).</summary>
    private readonly int _cacheSlots;
    private int _active;
    private int _waitingSequences;
    private Thread? _thread;
    private bool _disposed;
    private long _prefixTokensReused;
    private long _draftedTokensAccepted;

    public ContinuousBatcher(Gpt model, LoraAdapter? adapter, Utf8Constraint? utf8, ContinuousBatchingOptions options)
    {
        (_model, _adapter, _utf8, _options) = (model, adapter, utf8, options);
        var weight = model.TokenEmbedding;
        _device = weight.device;
        _cacheType = model.ComputeType ?? weight.dtype;
        var fit = options.CacheBytes / SlotKvCache.BytesPerSlot(model.Config, _cacheType);
        Capacity = (int)Math.Clamp(fit, 1, Math.Max(1, options.MaxSequences));
        _cacheSlots = Math.Max(Capacity, options.MinimumRows);
        _slots = new DecodingSequence?[Capacity];
    }

    /// <summary>Sequences that decode at once (the cache's slots).</summary>
    public int Capacity { get; }

    /// <summary>Sequences decoding now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Sequences waiting for a slot.</summary>
    public int Waiting => Volatile.Read(ref _waitingSequences);

    /// <summary>Prompt positions restored from the prefix cache instead of prefilled, since the batcher was
    /// made.</summary>
    public long PrefixTokensReused => Interlocked.Read(ref _prefixTokensReused);

    /// <summary>Drafted tokens that the sampler picked (each a step saved), since the batcher was made.</summary>
    public long DraftedTokensAccepted => Interlocked.Read(ref _draftedTokensAccepted);

    /// <summary>
    /// Queues one request's completions (one sequence each; they are admitted together). Null when they do not fit in
    /// the free slots and <see cref="ContinuousBatchingOptions.MaxWaiting"/> requests already wait, or when they
    /// could never fit.
    /// </summary>
    public IReadOnlyList<DecodingSequence>? TrySubmit(IReadOnlyList<int> prompt,
        IReadOnlyList<SamplingOptions> completions,
        CancellationToken cancellationToken = default)
    {
        if (completions.Count == 0 || completions.Count > Capacity)
            return null;
        var config = _model.Config;
        var sequences = completions.Select(o =>
            new DecodingSequence(prompt, o, config.BlockSize, config.VocabSize, _utf8, cancellationToken)).ToArray();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (QueuedBeyondCapacity(sequences.Length) > _options.MaxWaiting)
                return null;
            _waiting.Enqueue(sequences);
            _waitingSequences += sequences.Length;
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "continuous-batcher" };
                _thread.Start();
            }
            else
                Monitor.Pulse(_lock);
        }
        // A request cancelled while it waits is dropped at the next step (requests wait only while others decode).
        return sequences;
    }

    /// <summary>Requests that would wait for slots (FIFO) if one of <paramref name="length"/> sequences joined now.
    /// Under the lock.</summary>
    private int QueuedBeyondCapacity(int length)
    {
        var free = Capacity - _active;
        var queued = 0;
        foreach (var n in _waiting.Select(r => r.Length).Append(length))
        {
            if (queued == 0 && n <= free)
                free -= n;
            else
                queued++;
        }
        return queued;
    }

    private void Run()
    {
        SlotKvCache? cache = null;
        PackedGpt? packed = null;
        PrefixCache? prefixes = null;
        try
        {
            while (true)
            {
                lock (_lock)
                {
                    Admit();
                    while (_active == 0)
                    {
                        if (_disposed || !Monitor.Wait(_lock, _options.IdleRelease) && _waiting.Count == 0)
                        {
                            _thread = null;
                            return;
                        }
                        Admit();
                    }
                }
                if (cache is null)
                {
                    packed = _options.PackedWeights && PackedGpt.Supports(_model)
                        ? new PackedGpt(_model, _options.ProductThreads, _options.Int8Weights)
                        : null;
                    cache = new SlotKvCache(_model.Config, _cacheSlots, _cacheType, _device,
                        keysTransposed: packed is null);
                    prefixes = Exact(packed) && _options.PrefixCacheBytes > 0
                        ? new PrefixCache(_model.Config, _options.PrefixCacheBytes)
                        : null;
                }
                try
                {
                    Step(cache, packed, prefixes);
                }
                catch (Exception ex)
                {
                    // A failed step fails the sequences in it, not the batcher.
                    lock (_lock)
                        for (var slot = _active - 1; slot >= 0; slot--)
                            Retire(slot, ex);
                }
            }
        }
        finally
        {
            cache?.Dispose();
            packed?.Dispose();
            prefixes?.Dispose();
        }
    }

    /// <summary>Moves waiting requests into free slots in arrival order; a cancelled one is dropped. Under the
    /// lock.</summary>
    private void Admit()
    {
        while (_waiting.TryPeek(out var request))
        {
            if (request.All(s => s.CancellationToken.IsCancellationRequested))
            {
                _waiting.Dequeue();
                _waitingSequences -= request.Length;
                foreach (var s in request)
                    s.End();
                continue;
            }
            if (_active + request.Length > Capacity)
                return;
            _waiting.Dequeue();
            _waitingSequences -= request.Length;
            foreach (var sequence in request)
            {
                sequence.Slot = _active;
                sequence.Generator = new Generator((ulong)sequence.Options.Seed, _device);
                _slots[_active++] = sequence;
            }
        }
    }

    /// <summary>Ends the sequence in a slot and packs the last one into it, so the batch stays rows 0..active-1. Under
    /// the lock.</summary>
    private void Retire(int slot, Exception? error = null, SlotKvCache? cache = null)
    {
        var sequence = _slots[slot]!;
        sequence.End(error);
        var last = --_active;
        if (slot != last)
        {
            var moved = _slots[last]!;
            if (moved.Cached > 0)
                cache?.Move(last, slot);
            moved.Slot = slot;
            _slots[slot] = moved;
        }
        _slots[last] = null;
    }

    private void Step(SlotKvCache cache, PackedGpt? packed, PrefixCache? prefixes)
    {
        lock (_lock)
            for (var slot = _active - 1; slot >= 0; slot--)
                if (_slots[slot]!.Ended)
                    Retire(slot, cache: cache);
        var active = _active;
        var block = _model.Config.BlockSize;
        var sequences = _slots.Take(active).Select(s => s!).ToArray();
        foreach (var s in sequences)
        {
            // The window is full: keep its newest half and prefill it again (learned positions rule out sliding the
            // cache).
            if (s.Decoding && s.WindowLength > block)
                (s.WindowStart, s.Cached, s.Decoding) = (s.Context.Count - block / 2, 0, false);
        }

        using var noGrad = no_grad();
        using (NewDisposeScope())
        {
            // Decode first: LibTorch's padding rows write into position 0 of idle slots, which a prefill below then
            // overwrites.
            var decoding = sequences.Where(s => s.Decoding).ToArray();
            if (decoding.Length > 0)
            {
                // Packed products treat every row alike, so only the decoding slots are computed (a slot whose
                // prefill is under way is left alone), each with its draft's rows after its own; LibTorch's (and a
                // LoRA adapter's, which it computes) need padding, row r being slot r.
                var exact = Exact(packed);
                var drafts = decoding.Select(s => exact ? Draft(s) : []).ToArray();
                var rowOf = new int[decoding.Length];
                var (ids, positions, slots) = (new List<long>(), new List<long>(), new List<int>());
                for (var i = 0; i < decoding.Length; i++)
                {
                    var s = decoding[i];
                    rowOf[i] = exact ? ids.Count : s.Slot;
                    ids.AddRange(drafts[i].Prepend(s.Context[^1]).Select(t => (long)t));
                    positions.AddRange(Enumerable.Range(s.Cached, drafts[i].Length + 1).Select(p => (long)p));
                    slots.AddRange(Enumerable.Repeat(s.Slot, drafts[i].Length + 1));
                }
                if (!exact)
                {
                    // Row r is slot r; idle slots up to the minimum are padding.
                    var rows = Math.Min(cache.Slots, Math.Max(active, _options.MinimumRows));
                    var (padded, at) = (new long[rows], new long[rows]);
                    for (var i = 0; i < decoding.Length; i++)
                        (padded[rowOf[i]], at[rowOf[i]]) = (ids[i], positions[i]);
                    (ids, positions) = ([.. padded], [.. at]);
                }
                var logits = _model.DecodeSlots(tensor(ids.ToArray(), device: _device),
                    tensor(positions.ToArray(), device: _device), cache, _adapter, packed,
                    exact ? [.. slots] : null);
                var plain = Enumerable.Range(0, decoding.Length).Where(i => drafts[i].Length == 0).ToArray();
                if (plain.Length > 0)
                {
                    var guarded = plain.Select(i => decoding[i])
                        .Any(s => s.Utf8 is not null || s.Options.Grammar is not null);
                    var decoded = guarded
                        ? stack(plain.Select(i => Guarded(decoding[i], logits[rowOf[i]])).ToArray())
                        : logits.index_select(0, tensor(plain.Select(i => (long)rowOf[i]).ToArray(), device: _device));
                    var tokens = Sampler.PickRows(decoded, plain.Select(i => Sampling(decoding[i])).ToArray());
                    foreach (var (i, token) in plain.Zip(tokens))
                    {
                        decoding[i].Cached++;
                        decoding[i].Add(token);
                    }
                }
                foreach (var i in Enumerable.Range(0, decoding.Length).Where(i => drafts[i].Length > 0))
                    Verify(decoding[i], drafts[i], logits.narrow(0, rowOf[i], drafts[i].Length + 1));
            }
        }
        Prefill(sequences, cache, packed, prefixes);
    }

    private static RowSampling Sampling(DecodingSequence s) => new(s.Options, s.Generator!, s.Generated);

    /// <summary>Whether a position's bits are the same however it is computed (packed weights, no adapter): what
    /// drafts, chunked prefill and restored prefixes need.</summary>
    private bool Exact(PackedGpt? packed) => packed is not null && _adapter is null;

    /// <summary>
    /// A draft of the tokens that may come next, by prompt lookup: the continuation of the latest earlier occurrence of
    /// the context's last <see cref="DraftMatch"/> tokens (2 if 3 do not occur), up to
    /// <see cref="ContinuousBatchingOptions.SpeculativeTokens"/> tokens, as many as the sequence may still produce
    /// less one, and as its window has room for. Empty when nothing matches, and for a while after drafts that missed
    /// (1, 2, 4… up to 16 steps), where a text's n-grams recur without what followed them (a character model's "the").
    /// </summary>
    private int[] Draft(DecodingSequence s)
    {
        if (s.DraftWait > 0)
        {
            s.DraftWait--;
            return [];
        }
        var room = Math.Min(_options.SpeculativeTokens,
            Math.Min(s.Options.MaxNewTokens - s.Produced - 1, _model.Config.BlockSize - 1 - s.Cached));
        if (room <= 0)
            return [];
        var context = s.Context;
        var end = context.Count;
        for (var n = DraftMatch; n >= 2; n--)
        {
            if (end < n + 1)
                continue;
            // Latest first: a text being repeated is most likely being repeated from where it last was.
            for (var at = end - n - 1; at >= 0; at--)
            {
                var same = true;
                for (var k = 0; k < n && same; k++)
                    same = context[at + k] == context[end - n + k];
                if (same)
                    return [.. context.Skip(at + n).Take(Math.Min(room, end - at - n))];
            }
        }
        return [];
    }

    /// <summary>Tokens an n-gram must share with the context's end for its continuation to be drafted.</summary>
    private const int DraftMatch = 3;

    /// <summary>
    /// Samples a drafted sequence's rows in order, each as a plain step would (its guard, penalties and generator
    /// advanced by the tokens before it): while a row's token is the draft's next, the draft was right and the next row
    /// stands; the first that differs, or the row after the whole draft, gives the last token of the step. Row j's
    /// logits are the bits a plain step would compute at that position, so the text is the same as without drafts.
    /// </summary>
    private void Verify(DecodingSequence s, int[] draft, Tensor logits)
    {
        for (var j = 0; j <= draft.Length; j++)
        {
            var token = Sampler.PickRows(Guarded(s, logits[j]).unsqueeze(0), [Sampling(s)])[0];
            s.Cached++;
            s.Add(token);
            if (j == 0)
            {
                var missed = token.Id != draft[0];
                s.DraftMisses = missed ? s.DraftMisses + 1 : 0;
                s.DraftWait = missed ? 1 << Math.Min(4, s.DraftMisses - 1) : 0;
            }
            if (j == draft.Length || token.Id != draft[j] || s.Ended)
                return;
            Interlocked.Increment(ref _draftedTokensAccepted);
        }
    }

    /// <summary>
    /// Prefills the windows not yet decoding, in slot order. Where positions are the same bits however they are
    /// prefilled (packed weights, no adapter), a window starts from the longest prefix the cache holds and, while
    /// others decode, the step prefills <see cref="ContinuousBatchingOptions.PrefillChunkTokens"/> positions at most,
    /// the rest following at the next steps. A window's last position gives its first token.
    /// </summary>
    private void Prefill(DecodingSequence[] sequences, SlotKvCache cache, PackedGpt? packed, PrefixCache? prefixes)
    {
        var exact = Exact(packed);
        var budget = exact && sequences.Any(s => s.Decoding) ? Math.Max(1, _options.PrefillChunkTokens) : int.MaxValue;
        foreach (var s in sequences.Where(s => !s.Decoding && s.Produced < s.Options.MaxNewTokens))
        {
            if (budget == 0)
                return;
            using var scope = NewDisposeScope();
            var window = s.Context.Skip(s.WindowStart).ToArray();
            if (s.Cached == 0 && prefixes is not null)
            {
                s.Cached = prefixes.Restore(window, cache, s.Slot);
                Interlocked.Add(ref _prefixTokensReused, s.Cached);
            }
            var count = exact ? Math.Min(budget, window.Length - s.Cached) : window.Length;
            var ids = window.Skip(s.Cached).Take(count).Select(t => (long)t).ToArray();
            var logits = _model.PrefillSlot(tensor(ids, device: _device).unsqueeze(0), cache, s.Slot, _adapter,
                packed, start: s.Cached);
            s.Cached += count;
            budget -= Math.Min(budget, count);
            if (s.Cached < window.Length)
                continue;
            s.Decoding = true;
            s.Add(Sampler.PickRows(Guarded(s, logits).unsqueeze(0), [Sampling(s)])[0]);
            // After the first token is out: a new block's copy is no part of the time to it.
            prefixes?.Store(window, s.Cached, cache, s.Slot);
        }
    }

    /// <summary>The logits with the tokens that would break UTF-8 masked, for a sequence with the guard, and those its
    /// grammar does not allow, for a sequence with structured output.</summary>
    private static Tensor Guarded(DecodingSequence s, Tensor logits)
    {
        logits = s.Utf8?.Apply(logits, s.Utf8State, last: s.Produced == s.Options.MaxNewTokens - 1) ?? logits;
        if (s.Options.Grammar is not { } grammar)
            return logits;
        var allowed = grammar.Allowed();
        // The model's rows may pad the vocabulary: those are never allowed.
        var blocked = new bool[logits.shape[^1]];
        for (var i = 0; i < blocked.Length; i++)
            blocked[i] = i >= allowed.Length || !allowed[i];
        return logits.masked_fill(tensor(blocked, device: logits.device), double.NegativeInfinity);
    }

    /// <summary>Ends the decoding thread (after its current step); sequences still waiting or decoding are
    /// cancelled.</summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            while (_waiting.TryDequeue(out var request))
                foreach (var s in request)
                    s.End(new ObjectDisposedException(nameof(ContinuousBatcher)));
            for (var slot = 0; slot < _active; slot++)
                _slots[slot]!.Stop();
            thread = _thread;
            Monitor.PulseAll(_lock);
        }
        thread?.Join();
    }
}
