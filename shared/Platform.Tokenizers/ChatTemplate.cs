namespace Platform.Tokenizers;

/// <summary>One turn of a conversation, in OpenAI's roles.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>A conversation as ids, and which of them the loss covers (the assistant's replies and their end
/// markers).</summary>
public sealed record EncodedConversation(int[] Ids, bool[] Trained);

/// <summary>
/// The ChatML template every chat-trained version uses: each message is <c>&lt;|im_start|&gt;</c>, its role, a
/// newline, its content, <c>&lt;|im_end|&gt;</c> and a newline; a reply is prompted with
/// <c>&lt;|im_start|&gt;assistant\n</c>. The markers are special tokens of the tokenizer, so text never encodes to
/// them, and content holding their spelling is refused rather than read as a marker. The role line and the content
/// are encoded apart, so a prompt's ids are a prefix of the ids of the conversation it begins, whatever the
/// tokenizer.
/// </summary>
public static class ChatTemplate
{
    public const string Start = "<|im_start|>", End = "<|im_end|>";
    public const string System = "system", User = "user", Assistant = "assistant";
    public static readonly IReadOnlyList<string> Roles = [System, User, Assistant];
    public static readonly IReadOnlyList<string> SpecialTokens = [Start, End];

    /// <summary>The same template in Jinja, as Hugging Face's tokenizer_config.json states it (the ChatML example of
    /// Hugging Face's chat-templating guide, character for character).</summary>
    public const string Jinja =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + " +
        "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>The text a tokenizer for chat must cover besides the contents: the role lines and the newline after
    /// each end marker.</summary>
    public static IEnumerable<string> FixedText => Roles.Select(r => r + "\n").Append("\n");

    /// <summary>Why a message cannot be rendered (an unknown role, or content spelling a marker), or null.</summary>
    public static string? Problem(ChatMessage message) =>
        !Roles.Contains(message.Role) ? $"role must be one of {string.Join(", ", Roles)} (got '{message.Role}')"
        : message.Content.Contains(Start, StringComparison.Ordinal)
          || message.Content.Contains(End, StringComparison.Ordinal)
            ? $"content may not contain {Start} or {End}, the template's markers"
            : null;

    /// <summary>The markers' ids in <paramref name="tokenizer"/>; InvalidDataException when it lacks one.</summary>
    public static (int Start, int End) MarkersOf(ITokenizer tokenizer)
    {
        int Id(string token) => tokenizer.SpecialTokenId(token) ?? throw new InvalidDataException(
            $"The tokenizer has no {token} token, which the chat template needs.");
        return (Id(Start), Id(End));
    }

    /// <summary>Whether <paramref name="tokenizer"/> holds both markers.</summary>
    public static bool Fits(ITokenizer tokenizer) =>
        tokenizer.SpecialTokenId(Start) is not null && tokenizer.SpecialTokenId(End) is not null;

    /// <summary>
    /// The conversation's ids, with the assistant's content and end markers marked as trained; with
    /// <paramref name="promptReply"/>, followed by the start of an assistant reply (untrained), as a prompt.
    /// </summary>
    public static EncodedConversation Encode(ITokenizer tokenizer, IEnumerable<ChatMessage> messages,
        bool promptReply = false)
    {
        var turns = messages.ToList();
        if (turns.Select(Problem).FirstOrDefault(p => p is not null) is { } problem)
            throw new ArgumentException(problem, nameof(messages));
        var (start, end) = MarkersOf(tokenizer);
        var newline = tokenizer.Encode("\n");
        var ids = new List<int>();
        var trained = new List<bool>();
        void Add(IEnumerable<int> part, bool train)
        {
            var before = ids.Count;
            ids.AddRange(part);
            trained.AddRange(Enumerable.Repeat(train, ids.Count - before));
        }
        foreach (var message in turns)
        {
            var reply = message.Role == Assistant;
            Add([start], false);
            Add(tokenizer.Encode(message.Role + "\n"), false);
            Add(tokenizer.Encode(message.Content), reply);
            Add([end], reply);
            Add(newline, false);
        }
        if (promptReply)
        {
            Add([start], false);
            Add(tokenizer.Encode(Assistant + "\n"), false);
        }
        return new EncodedConversation([.. ids], [.. trained]);
    }
}
