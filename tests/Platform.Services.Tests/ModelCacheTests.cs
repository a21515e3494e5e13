using Generation.Data;
using Generation.Serving;
using Microsoft.Extensions.Options;
using Platform.ML;
using Platform.Storage;
using Platform.Tokenizers;
using static TorchSharp.torch;

namespace Platform.Services.Tests;

/// <summary>LoRA versions share their base in the generation service's model cache, which counts the base
/// once.</summary>
public sealed class ModelCacheTests : IDisposable
{
    private static readonly GptConfig Base = new(VocabSize: 5, BlockSize: 8, NLayer: 2, NHead: 2, NEmbd: 16);
    private readonly string _root = Directory.CreateTempSubdirectory("model-cache-").FullName;
    private readonly ArtifactStore _store;

    public ModelCacheTests() => _store = new ArtifactStore(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<ServableModel> WriteAsync(string name, string key, Action<Stream> write)
    {
        await _store.WriteAsync(key, s => { write(s); return Task.CompletedTask; });
        if (!_store.Exists("tokenizer.json"))
            await _store.WriteAsync("tokenizer.json", s =>
                { CharTokenizer.Train([new StringReader("abcde")]).Save(s); return Task.CompletedTask; });
        return new ServableModel
        {
            Name = name,
            Version = 1,
            CheckpointKey = key,
            CheckpointSha256 = await _store.Sha256Async(key),
            TokenizerKey = "tokenizer.json"
        };
    }

    private async Task<(ServableModel Base, ServableModel First, ServableModel Second, long BaseBytes,
        long AdapterBytes)> RegistryAsync()
    {
        manual_seed(61);
        using var model = new Gpt(Base);
        var baseBytes = model.parameters().Sum(p => p.numel()) * 4;
        var baseVersion = await WriteAsync("base", "base.ckpt", s => Checkpoint.Save(model, s));
        var lora = new LoraConfig(2, 4, 0, [LoraTargets.Attention]);
        using var adapter = new LoraAdapter(Base, lora);
        var header = new LoraHeader(lora, Base, baseVersion.CheckpointKey, baseVersion.CheckpointSha256,
            "base/versions/1");
        var first = await WriteAsync("first", "first.lora", s => LoraCheckpoint.Save(adapter, header, s));
        var second = await WriteAsync("second", "second.lora", s => LoraCheckpoint.Save(adapter, header, s));
        return (baseVersion, first, second, baseBytes, adapter.Parameters * 4);
    }

    [Fact]
    public async Task Adapters_share_one_loaded_base_which_counts_once()
    {
        var (baseVersion, first, second, baseBytes, adapterBytes) = await RegistryAsync();
        using var cache = new ModelCache(_store, Options.Create(new GenerationOptions()));
        using var firstLease = await cache.GetAsync(first);
        using var secondLease = await cache.GetAsync(second);
        using var plainLease = await cache.GetAsync(baseVersion);
        var (a, b, plain) = (firstLease.Model, secondLease.Model, plainLease.Model);

        Assert.Same(a.Network, b.Network);
        Assert.Same(plain.Network, a.Network);
        Assert.NotNull(a.Adapter);
        Assert.Null(plain.Adapter);
        // 2 layers × (A 2×16 + B 48×2 for c_attn, A 2×16 + B 16×2 for attn.c_proj) = 384 parameters per adapter.
        Assert.Equal(384 * 4, adapterBytes);
        Assert.Equal(baseBytes + 2 * adapterBytes, cache.LoadedBytes);
    }

    [Fact]
    public async Task Over_budget_the_adapters_go_before_the_base_they_run_on()
    {
        var (_, first, second, baseBytes, adapterBytes) = await RegistryAsync();
        // Room for the base and one adapter only.
        using var cache = new ModelCache(_store,
            Options.Create(new GenerationOptions { ModelMemoryBudgetBytes = baseBytes + adapterBytes }));
        var firstLease = await cache.GetAsync(first);
        var firstWeight = firstLease.Model.Adapter!.parameters().First();
        using var secondLease = await cache.GetAsync(second);
        Assert.Equal(baseBytes + adapterBytes, cache.LoadedBytes);
        // The second adapter, just used, and its base stay; the first adapter was dropped, but is freed only when the
        // request holding it ends.
        using (var again = await cache.GetAsync(second))
            Assert.Same(secondLease.Model, again.Model);
        Assert.False(firstWeight.IsInvalid);
        firstLease.Dispose();
        Assert.True(firstWeight.IsInvalid);
        // The base, which the second adapter runs on, is alive.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Assert.Equal(5, secondLease.Model.Model.forward(tensor(new long[] { 1, 2 }).unsqueeze(0)).shape[^1]);
    }
}
