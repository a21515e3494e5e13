namespace Platform.Tokenizers.Structured;

/// <summary>
/// Where a document is in its grammar, after the bytes written so far: a stack of immutable frames, so a state is
/// kept, shared and tried byte by byte without copying. <see cref="Feed"/> gives the state after one more byte, or
/// null when the byte cannot continue a valid document. A number or literal ends when a byte that cannot extend it
/// arrives; that byte then goes to the value around it.
/// </summary>
public abstract record GrammarState
{
    /// <summary>The frame around this one (null for the document's end).</summary>
    public abstract GrammarState? Parent { get; init; }

    /// <summary>The state before the first byte of a document of <paramref name="node"/>.</summary>
    public static GrammarState Start(GrammarNode node) => new ValueState(node, DocumentEnd.Instance);

    public abstract GrammarState? Feed(byte b);

    /// <summary>Whether the document may end here: it is complete, or ends with a number or literal that
    /// is.</summary>
    public virtual bool CanFinish => false;

    /// <summary>The state after a value this frame was waiting for has ended.</summary>
    internal virtual GrammarState ValueDone()
        => throw new InvalidOperationException($"{GetType().Name} holds no value.");

    /// <summary>The state after an object key (index among the node's keys; -1 for an open object's) has
    /// ended.</summary>
    internal virtual GrammarState KeyDone(int index) => throw new InvalidOperationException(
        $"{GetType().Name} holds no key.");

    internal int Depth => Parent is null ? 0 : 1 + Parent.Depth;

    /// <summary>The state after a value's first byte.</summary>
    internal static GrammarState? Begin(GrammarNode node, GrammarState parent, byte b)
    {
        var nested = parent.Depth < JsonSchemaGrammar.MaxDepth;
        switch (node)
        {
            case ObjectNode o when b == '{' && nested:
                return new ObjectState(o, ObjectPhase.FirstKey, 0, -1, parent);
            case ArrayNode a when b == '[' && nested:
                return new ArrayState(a.Items, a.MinItems, a.MaxItems, 0, ArrayPhase.FirstItem, parent);
            case StringNode s when b == '"':
                return new StringState(s.MinLength, s.MaxLength, 0, 0, 0, IsKey: false, parent);
            case NumberNode n:
                return new NumberState(n.Integer, NumberPhase.Start, 0, parent).Feed(b);
            case LiteralNode l:
                return new LiteralState(l.Options, l.Options.Count >= 64 ? ulong.MaxValue
                    : (1UL << l.Options.Count) - 1, 0, IsKey: false, parent).Feed(b);
            case AnyNode:
                return b switch
                {
                    (byte)'{' when nested => new ObjectState(null, ObjectPhase.FirstKey, 0, -1, parent),
                    (byte)'[' when nested => new ArrayState(AnyNode.Instance, 0, int.MaxValue, 0, ArrayPhase.FirstItem,
                        parent),
                    (byte)'"' => new StringState(0, int.MaxValue, 0, 0, 0, IsKey: false, parent),
                    (byte)'-' or (>= (byte)'0' and <= (byte)'9') =>
                        new NumberState(false, NumberPhase.Start, 0, parent).Feed(b),
                    (byte)'t' or (byte)'f' or (byte)'n' => Begin(AnyLiterals, parent, b),
                    _ => null,
                };
            default:
                return null;
        }
    }

    private static readonly LiteralNode AnyLiterals = new(["true"u8.ToArray(), "false"u8.ToArray(),
        "null"u8.ToArray()]);
}

/// <summary>The document is complete: nothing may follow.</summary>
internal sealed record DocumentEnd : GrammarState
{
    public static readonly DocumentEnd Instance = new();
    public override GrammarState? Parent { get => null; init { } }
    public override GrammarState? Feed(byte b) => null;
    public override bool CanFinish => true;
    internal override GrammarState ValueDone() => this;
}

/// <summary>A value of <paramref name="Node"/> is expected next.</summary>
internal sealed record ValueState(GrammarNode Node, GrammarState? Parent) : GrammarState
{
    public override GrammarState? Feed(byte b) => Begin(Node, Parent!, b);
}

internal enum ObjectPhase { FirstKey, Key, Colon, Value, AfterValue }

/// <summary>Inside an object: <paramref name="Seen"/> marks the listed properties written so far.</summary>
internal sealed record ObjectState(ObjectNode? Node, ObjectPhase Phase, ulong Seen, int Current, GrammarState? Parent)
    : GrammarState
{
    private bool Open => Node is null || Node.Open;
    private ulong All => Node is null || Node.Keys.Count == 0 ? 0
        : Node.Keys.Count >= 64 ? ulong.MaxValue : (1UL << Node.Keys.Count) - 1;
    private ulong Remaining => All & ~Seen;
    private bool MayClose => Open || (Node!.Required & ~Seen) == 0;
    private bool MayAddKey => Open || Remaining != 0;

    public override GrammarState? Feed(byte b) => Phase switch
    {
        ObjectPhase.FirstKey when b == '}' && MayClose => Parent!.ValueDone(),
        ObjectPhase.FirstKey or ObjectPhase.Key when b == '"' && MayAddKey => Open
            ? new StringState(0, int.MaxValue, 0, 0, 0, IsKey: true, this)
            : new LiteralState(Node!.Keys, Remaining, 0, IsKey: true, this),
        ObjectPhase.Colon when b == ':' => new ValueState(Open ? AnyNode.Instance : Node!.Values[Current],
            this with { Phase = ObjectPhase.Value }),
        ObjectPhase.AfterValue when b == ',' && MayAddKey => this with { Phase = ObjectPhase.Key },
        ObjectPhase.AfterValue when b == '}' && MayClose => Parent!.ValueDone(),
        _ => null,
    };

    internal override GrammarState KeyDone(int index) => this with
    {
        Phase = ObjectPhase.Colon,
        Current = index,
        Seen = index < 0 ? Seen : Seen | (1UL << index),
    };

    internal override GrammarState ValueDone() => this with { Phase = ObjectPhase.AfterValue };
}

internal enum ArrayPhase { FirstItem, Item, AfterItem }

internal sealed record ArrayState(GrammarNode Items, int MinItems, int MaxItems, int Count, ArrayPhase Phase,
    GrammarState? Parent) : GrammarState
{
    public override GrammarState? Feed(byte b) => Phase switch
    {
        ArrayPhase.FirstItem when b == ']' => MinItems == 0 ? Parent!.ValueDone() : null,
        ArrayPhase.FirstItem when MaxItems > 0 => Begin(Items, this, b),
        ArrayPhase.Item => Begin(Items, this, b),
        ArrayPhase.AfterItem when b == ',' && Count < MaxItems => this with { Phase = ArrayPhase.Item },
        ArrayPhase.AfterItem when b == ']' && Count >= MinItems => Parent!.ValueDone(),
        _ => null,
    };

    internal override GrammarState ValueDone() => this with { Count = Count + 1, Phase = ArrayPhase.AfterItem };
}

/// <summary>Inside a string, after its opening quote: <paramref name="Length"/> characters so far; within an
/// escape (<paramref name="Escape"/>: 1 after the backslash, 2-5 for the hex digits of \u left) or a UTF-8 character
/// (<paramref name="Utf8Left"/> continuation bytes to go).</summary>
internal sealed record StringState(int MinLength, int MaxLength, int Length, int Escape, int Utf8Left, bool IsKey,
    GrammarState? Parent) : GrammarState
{
    public override GrammarState? Feed(byte b)
    {
        if (Utf8Left > 0)
            return b is >= 0x80 and <= 0xBF ? this with { Utf8Left = Utf8Left - 1 } : null;
        if (Escape == 1)
            return b switch
            {
                (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t'
                    => this with { Escape = 0 },
                (byte)'u' => this with { Escape = 5 },
                _ => null,
            };
        if (Escape > 1)
            return Uri.IsHexDigit((char)b) ? this with { Escape = Escape == 2 ? 0 : Escape - 1 } : null;
        if (b == '"')
            return Length < MinLength ? null : IsKey ? Parent!.KeyDone(-1) : Parent!.ValueDone();
        if (Length >= MaxLength || b < 0x20)
            return null;
        return b switch
        {
            (byte)'\\' => this with { Length = Length + 1, Escape = 1 },
            < 0x80 => this with { Length = Length + 1 },
            >= 0xC2 and <= 0xDF => this with { Length = Length + 1, Utf8Left = 1 },
            >= 0xE0 and <= 0xEF => this with { Length = Length + 1, Utf8Left = 2 },
            >= 0xF0 and <= 0xF4 => this with { Length = Length + 1, Utf8Left = 3 },
            _ => null,
        };
    }
}

internal enum NumberPhase { Start, Minus, Zero, Integer, Point, Fraction }

/// <summary>A number: -?(0|[1-9][0-9]{0,15})(\.[0-9]{1,8})?, or without the fraction for an integer.</summary>
internal sealed record NumberState(bool IntegerOnly, NumberPhase Phase, int Digits, GrammarState? Parent)
    : GrammarState
{
    private const int MaxIntegerDigits = 16, MaxFractionDigits = 8;

    private bool Ended => Phase is NumberPhase.Zero or NumberPhase.Integer or NumberPhase.Fraction;

    public override bool CanFinish => Ended && Parent!.ValueDone().CanFinish;

    public override GrammarState? Feed(byte b)
    {
        var digit = b is >= (byte)'0' and <= (byte)'9';
        GrammarState? next = Phase switch
        {
            NumberPhase.Start when b == '-' => this with { Phase = NumberPhase.Minus },
            NumberPhase.Start or NumberPhase.Minus when b == '0' => this with { Phase = NumberPhase.Zero, Digits = 1 },
            NumberPhase.Start or NumberPhase.Minus when digit => this with { Phase = NumberPhase.Integer, Digits = 1 },
            NumberPhase.Integer when digit && Digits < MaxIntegerDigits => this with { Digits = Digits + 1 },
            NumberPhase.Zero or NumberPhase.Integer when b == '.' && !IntegerOnly =>
                this with { Phase = NumberPhase.Point, Digits = 0 },
            NumberPhase.Point when digit => this with { Phase = NumberPhase.Fraction, Digits = 1 },
            NumberPhase.Fraction when digit && Digits < MaxFractionDigits => this with { Digits = Digits + 1 },
            _ => null,
        };
        return next ?? (Ended ? Parent!.ValueDone().Feed(b) : null);
    }
}

/// <summary>
/// One of a set of byte strings: <paramref name="Alive"/> marks the options that match the <paramref name="Matched"/>
/// bytes so far. A key (options ending with its closing quote, so none is a prefix of another) ends on its last byte;
/// a value ends when a byte no option continues with arrives after a whole option.
/// </summary>
internal sealed record LiteralState(IReadOnlyList<byte[]> Options, ulong Alive, int Matched, bool IsKey,
    GrammarState? Parent) : GrammarState
{
    private int? Whole
    {
        get
        {
            for (var i = 0; i < Options.Count && i < 64; i++)
                if ((Alive & (1UL << i)) != 0 && Options[i].Length == Matched)
                    return i;
            return null;
        }
    }

    public override bool CanFinish => !IsKey && Whole is not null && Parent!.ValueDone().CanFinish;

    public override GrammarState? Feed(byte b)
    {
        ulong alive = 0;
        for (var i = 0; i < Options.Count && i < 64; i++)
            if ((Alive & (1UL << i)) != 0 && Options[i].Length > Matched && Options[i][Matched] == b)
                alive |= 1UL << i;
        if (alive != 0)
        {
            var next = this with { Alive = alive, Matched = Matched + 1 };
            return IsKey && next.Whole is { } key ? Parent!.KeyDone(key) : next;
        }
        return !IsKey && Whole is not null ? Parent!.ValueDone().Feed(b) : null;
    }
}
