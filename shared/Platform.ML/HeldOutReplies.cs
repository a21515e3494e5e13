using Platform.Tokenizers;

namespace Platform.ML;

/// <summary>A held-out conversation up to its last assistant turn, and that turn's content.</summary>
public sealed record HeldOutReply(int[] Prompt, int[] Reply);

/// <summary>
/// Greedy replies to held-out conversations, against the replies in the data: the last assistant turn of each
/// conversation in a conversation token file (its mask marks each conversation's first token with
/// <see cref="TokenFileInfo.ConversationStart"/> and the trained tokens with <see cref="TokenFileInfo.Trained"/>). A
/// reply matches when the model writes exactly its tokens and then the end marker.
/// </summary>
public static class HeldOutReplies
{
    public static IReadOnlyList<HeldOutReply> LastTurns(string tokenFilePath, int maxConversations)
    {
        var ids = TokenFile.ReadAll(tokenFilePath);
        var mask = File.ReadAllBytes(TokenFileInfo.MaskPath(tokenFilePath));
        var starts = Enumerable.Range(0, mask.Length).Where(i => mask[i] == TokenFileInfo.ConversationStart)
            .Append(mask.Length).ToList();
        var turns = new List<HeldOutReply>();
        for (var c = 0; c + 1 < starts.Count && turns.Count < maxConversations; c++)
        {
            // The last run of trained tokens: the reply's content, then its end marker.
            var end = starts[c + 1] - 1;
            while (end >= starts[c] && mask[end] != TokenFileInfo.Trained)
                end--;
            if (end < starts[c])
                continue;
            var start = end;
            while (start > starts[c] && mask[start - 1] == TokenFileInfo.Trained)
                start--;
            turns.Add(new HeldOutReply(ids[starts[c]..start], ids[start..end]));
        }
        return turns;
    }

    /// <summary>Each turn's greedy reply (up to the end marker, or one token past the reference's length) beside the
    /// reference, as text.</summary>
    public static DecodedPairs Decode(Gpt model, ITokenizer tokenizer, IReadOnlyList<HeldOutReply> turns,
        Utf8Constraint? utf8, CancellationToken cancellationToken)
    {
        var end = ChatTemplate.MarkersOf(tokenizer).End;
        var hypotheses = new List<string>();
        foreach (var turn in turns)
        {
            var reply = Sampler.Stream(model, turn.Prompt, new SamplingOptions(turn.Reply.Length + 1, Temperature: 0),
                cancellationToken, utf8: utf8).Select(t => t.Id).TakeWhile(id => id != end).ToList();
            hypotheses.Add(tokenizer.Decode(reply));
        }
        return new DecodedPairs(hypotheses, turns.Select(t => tokenizer.Decode(t.Reply)).ToList());
    }
}
