using System.Text;
using Ingestion.Corpus;
using Platform.Contracts;
using Platform.ML;
using Platform.Storage;
using Platform.Tokenizers;
using Platform.Tokenizers.Kinds;
using Tokenization.Encoding;
using static TorchSharp.torch;

namespace Platform.Services.Tests;

/// <summary>A conversation dataset from upload to the batches a GPT trains on: checked line by line, split by
/// conversation, encoded with the template's markers, and masked so only the assistant's replies are
/// targets.</summary>
public sealed class ChatDataTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"chat-{Guid.NewGuid():N}");
    private readonly ArtifactStore _store;

    public ChatDataTests() => _store = new ArtifactStore(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Line(params (string Role, string Content)[] messages) =>
        ChatLines.Format(messages.Select(m => new ChatMessage(m.Role, m.Content)).ToList());

    private string Corpus(string text)
    {
        var path = Path.Combine(_root, $"{Guid.NewGuid():N}.jsonl");
        Directory.CreateDirectory(_root);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    [Fact]
    public async Task Conversations_are_split_whole_and_counted_per_role()
    {
        var lines = Enumerable.Range(1, 20).Select(i => Line(("system", "Be brief."), ("user", $"Say {i}"),
            ("assistant", new string('x', i))));
        var path = Corpus(string.Join('\n', lines) + "\n\n");
        var summary = await ChatCorpus.SplitAsync(path, 0.25, _store, "a/train.jsonl", "a/validation.jsonl",
            CancellationToken.None);
        Assert.Equal((20, 15, 5), (summary.Conversations, summary.TrainConversations,
            summary.ValidationConversations));
        Assert.Equal(20, summary.Turns["assistant"]);
        Assert.Equal(Enumerable.Range(1, 20).Sum(), summary.Characters["assistant"]);
        Assert.Equal(20 * "Be brief.".Length, summary.Characters["system"]);
        using var train = new StreamReader(_store.OpenRead("a/train.jsonl"));
        using var validation = new StreamReader(_store.OpenRead("a/validation.jsonl"));
        var all = ChatLines.Read(train).Concat(ChatLines.Read(validation)).ToList();
        Assert.Equal(20, all.Select(c => c[2].Content).Distinct().Count());
    }

    [Fact]
    public async Task A_bad_conversation_is_refused_with_its_line_number_and_reason()
    {
        var path = Corpus(Line(("user", "hi"), ("assistant", "hello")) + "\n"
            + "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n"
            + "\n"
            + "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}\n"
            + "{\"messages\":[{\"role\":\"user\",\"content\":\"<|im_end|>\"},"
            + "{\"role\":\"assistant\",\"content\":\"y\"}]}\n"
            + "not json\n");
        var ex = await Assert.ThrowsAsync<CorpusRejectedException>(() => ChatCorpus.SplitAsync(path, 0.5, _store,
            "b/train.jsonl", "b/validation.jsonl", CancellationToken.None));
        Assert.Contains("line 2: the conversation has no assistant message", ex.Message);
        Assert.Contains("line 4: messages[0]: role must be one of system, user, assistant (got 'robot')", ex.Message);
        Assert.Contains("line 5: messages[0]: content may not contain", ex.Message);
        Assert.Contains("line 6: not valid JSON", ex.Message);
        Assert.False(_store.Exists("b/train.jsonl"));
    }

    [Theory]
    [InlineData(TokenizerKinds.Char)]
    [InlineData(TokenizerKinds.Bpe)]
    [InlineData(TokenizerKinds.WordPiece)]
    public async Task Encoded_conversations_mask_everything_but_the_replies_and_their_end_markers(string kind)
    {
        var conversations = new[]
        {
            Line(("system", "You add."), ("user", "1+1"), ("assistant", "2"), ("user", "2+2"), ("assistant", "4")),
            Line(("user", "3+3"), ("assistant", "6")),
            Line(("user", "4+4"), ("assistant", "8")),
        };
        await _store.WriteAsync("d/train.jsonl", s => s.WriteAsync(Encoding.UTF8.GetBytes(
            string.Join('\n', conversations[..2]) + "\n")).AsTask());
        await _store.WriteAsync("d/validation.jsonl", s => s.WriteAsync(Encoding.UTF8.GetBytes(
            conversations[2] + "\n")).AsTask());
        var spec = kind == TokenizerKinds.Char ? new TokenizerSpec { Kind = kind }
            : new TokenizerSpec { Kind = kind, VocabSize = kind == TokenizerKinds.Bpe ? 300 : 60 };
        var encoder = new DatasetEncoder(_store, new PairEncoder(_store), new ChatEncoder(_store));
        var record = await encoder.EncodeAsync(new DatasetIngested(Guid.NewGuid(), "chat", "d/train.jsonl",
            "d/validation.jsonl", 1, 1, spec, null, DateTimeOffset.UtcNow, Format: DatasetFormats.Chat),
            CancellationToken.None);

        Assert.Equal(DatasetFormats.Chat, record.Format);
        var tokenizer = TokenizerFile.Load(_store.PathOf(record.TokenizerKey));
        var (start, end) = ChatTemplate.MarkersOf(tokenizer);
        var path = _store.PathOfWithSidecar(record.TrainTokensKey);
        var ids = TokenFile.ReadAll(path);
        var mask = File.ReadAllBytes(TokenFileInfo.MaskPath(path));
        Assert.True(TokenFileInfo.ReadVerified(path).LossMask);

        // The oracle: the template's parts encoded one by one, in order.
        // Mask: 1 on trained tokens, 2 on each conversation's first token, 0 on the rest.
        var expected = new List<(int Id, byte Mask)>();
        foreach (var conversation in ChatLines.Read(new StringReader(string.Join('\n', conversations[..2]))))
            foreach (var message in conversation)
            {
                byte reply = message.Role == ChatTemplate.Assistant ? (byte)1 : (byte)0;
                expected.Add((start, ReferenceEquals(message, conversation[0]) ? (byte)2 : (byte)0));
                expected.AddRange(tokenizer.Encode(message.Role + "\n").Select(id => (id, (byte)0)));
                expected.AddRange(tokenizer.Encode(message.Content).Select(id => (id, reply)));
                expected.Add((end, reply));
                expected.AddRange(tokenizer.Encode("\n").Select(id => (id, (byte)0)));
            }
        Assert.Equal(expected.Select(e => e.Id), ids);
        Assert.Equal(expected.Select(e => e.Mask), mask);

        // The last turn of each conversation, as evaluation reads them back.
        var turns = HeldOutReplies.LastTurns(path, 10);
        Assert.Equal(2, turns.Count);
        Assert.Equal(tokenizer.Encode("4"), turns[0].Reply);
        Assert.Equal(tokenizer.Encode("6"), turns[1].Reply);
        Assert.Equal(start, turns[1].Prompt[0]);
        Assert.Equal(tokenizer.Encode(ChatTemplate.Assistant + "\n"), turns[1].Prompt[^tokenizer.Encode(
            ChatTemplate.Assistant + "\n").Length..]);

        // Batches read the mask beside the file: a target is the next token where it is trained, ignored elsewhere.
        using var batches = TokenBatches.FromFile(path, blockSize: ids.Length - 2, CPU);
        var (_, y) = batches.At([0]);
        Assert.Equal(Enumerable.Range(1, ids.Length - 2).Select(i => mask[i] == 1 ? (long)ids[i]
            : TokenBatches.IgnoredTarget), y[0].data<long>().ToArray());
    }
}
