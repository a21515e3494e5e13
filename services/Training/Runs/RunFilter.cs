using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Training.Runs;

/// <summary>A filter or ordering that does not parse: where (0-based character offset) and what was expected.</summary>
public sealed class RunFilterException(int position, string message)
    : Exception($"at position {position}: {message}")
{
    public int Position { get; } = position;
}

public enum FilterScope { Metrics, Params, Tags, Attributes }

/// <summary>One thing a run is compared by: metrics.val_loss, params.training.learningRate, tags.team,
/// attributes.state.</summary>
public sealed record FilterOperand(FilterScope Scope, string Name)
{
    public override string ToString() => $"{Scope.ToString().ToLowerInvariant()}.{Name}";
}

/// <summary>A literal: a number, or a quoted string.</summary>
public sealed record FilterValue(double? Number, string Text);

public sealed record FilterClause(FilterOperand Operand, string Comparator, FilterValue Value);

public sealed record OrderTerm(FilterOperand Operand, bool Descending);

/// <summary>
/// MLflow's search syntax for runs: clauses joined by AND, each an operand, a comparator and a literal.
/// <code>metrics.val_loss &lt; 1.9 and params.training.learningRate = 0.001 and tags.team = "nlp"</code>
/// Operands are metrics.NAME (the run's latest value), params.NAME, tags.NAME (a tag "NAME:value") and
/// attributes.NAME (name, state, step, owner, external, experiment, created); a name with other characters goes in
/// backticks. Comparators: =, !=, &lt;, &lt;=, &gt;, &gt;=, and LIKE / ILIKE with % and _ for strings. Strings are in
/// single or double quotes. A fault is reported with its character position.
/// </summary>
public static partial class RunFilter
{
    public static readonly string[] Attributes = ["name", "state", "step", "owner", "external", "experiment",
        "created"];
    private static readonly string[] Comparators = ["<=", ">=", "!=", "=", "<", ">"];

    [GeneratedRegex("^[A-Za-z0-9_.:/-]$")]
    private static partial Regex NameCharacter();

    public static IReadOnlyList<FilterClause> Parse(string filter)
    {
        var reader = new Reader(filter);
        var clauses = new List<FilterClause>();
        reader.SkipSpace();
        if (reader.AtEnd)
            return clauses;
        while (true)
        {
            clauses.Add(ParseClause(reader));
            reader.SkipSpace();
            if (reader.AtEnd)
                return clauses;
            var at = reader.Position;
            var word = reader.Word();
            if (!string.Equals(word, "and", StringComparison.OrdinalIgnoreCase))
                throw new RunFilterException(at, word.Length == 0
                    ? $"expected AND or the end, found '{reader.Rest(12)}'"
                    : $"expected AND or the end, found '{word}' (only AND joins clauses)");
            reader.SkipSpace();
            if (reader.AtEnd)
                throw new RunFilterException(reader.Position, "expected a clause after AND");
        }
    }

    /// <summary>"metrics.val_loss ASC, attributes.created DESC": terms apart by commas, ascending unless
    /// DESC.</summary>
    public static IReadOnlyList<OrderTerm> ParseOrder(string orderBy)
    {
        var reader = new Reader(orderBy);
        var terms = new List<OrderTerm>();
        while (true)
        {
            reader.SkipSpace();
            var operand = ParseOperand(reader);
            reader.SkipSpace();
            var descending = false;
            if (!reader.AtEnd && reader.Peek != ',')
            {
                var at = reader.Position;
                var word = reader.Word();
                if (string.Equals(word, "desc", StringComparison.OrdinalIgnoreCase))
                    descending = true;
                else if (!string.Equals(word, "asc", StringComparison.OrdinalIgnoreCase))
                    throw new RunFilterException(at,
                        $"expected ASC, DESC, ',' or the end, found '{reader.Rest(12, at)}'");
                reader.SkipSpace();
            }
            terms.Add(new OrderTerm(operand, descending));
            if (reader.AtEnd)
                return terms;
            if (reader.Peek != ',')
                throw new RunFilterException(reader.Position, $"expected ',' or the end, found '{reader.Rest(12)}'");
            reader.Advance();
        }
    }

    private static FilterClause ParseClause(Reader reader)
    {
        var operand = ParseOperand(reader);
        reader.SkipSpace();
        var at = reader.Position;
        var comparator = Comparators.FirstOrDefault(reader.StartsWith);
        if (comparator is not null)
            reader.Advance(comparator.Length);
        else
        {
            var word = reader.Word();
            if (string.Equals(word, "like", StringComparison.OrdinalIgnoreCase)
                || string.Equals(word, "ilike", StringComparison.OrdinalIgnoreCase))
                comparator = word.ToUpperInvariant();
            else
                throw new RunFilterException(at, "expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE), found " +
                                                 $"'{(word.Length > 0 ? word : reader.Rest(12, at))}'");
        }
        reader.SkipSpace();
        var valueAt = reader.Position;
        var value = ParseValue(reader);
        if (comparator is "LIKE" or "ILIKE" && value.Number is not null)
            throw new RunFilterException(valueAt, $"{comparator} compares with a quoted pattern, not a number");
        if (operand.Scope == FilterScope.Metrics && value.Number is null)
            throw new RunFilterException(valueAt, $"{operand} is a number: compare it with a number");
        if (operand.Scope == FilterScope.Tags && comparator is "<" or "<=" or ">" or ">=")
            throw new RunFilterException(at, $"tags compare with =, !=, LIKE or ILIKE, not {comparator}");
        return new FilterClause(operand, comparator, value);
    }

    private static FilterOperand ParseOperand(Reader reader)
    {
        var at = reader.Position;
        var word = new StringBuilder();
        while (!reader.AtEnd && char.IsAsciiLetter(reader.Peek))
            word.Append(reader.Advance());
        var scope = word.ToString().ToLowerInvariant() switch
        {
            "metrics" or "metric" => FilterScope.Metrics,
            "params" or "param" or "parameters" or "parameter" => FilterScope.Params,
            "tags" or "tag" => FilterScope.Tags,
            "attributes" or "attribute" or "attr" or "run" => FilterScope.Attributes,
            _ => throw new RunFilterException(at, "expected metrics., params., tags. or attributes., found " +
                                                  $"'{reader.Rest(12, at)}'"),
        };
        if (reader.AtEnd || reader.Peek != '.')
            throw new RunFilterException(reader.Position, $"expected '.' and a name after '{word}'");
        reader.Advance();
        var nameAt = reader.Position;
        string name;
        if (!reader.AtEnd && reader.Peek is '`' or '"')
            name = reader.Quoted();
        else
        {
            var text = new StringBuilder();
            while (!reader.AtEnd && NameCharacter().IsMatch(reader.Peek.ToString()))
                text.Append(reader.Advance());
            name = text.ToString();
        }
        if (name.Length == 0)
            throw new RunFilterException(nameAt, $"expected a name after '{word}.'");
        if (scope == FilterScope.Attributes && !Attributes.Contains(name))
            throw new RunFilterException(nameAt, $"'{name}' is not an attribute; they are " +
                                                 $"{string.Join(", ", Attributes)}");
        return new FilterOperand(scope, name);
    }

    private static FilterValue ParseValue(Reader reader)
    {
        if (reader.AtEnd)
            throw new RunFilterException(reader.Position, "expected a number or a quoted string, found the end");
        if (reader.Peek is '\'' or '"')
        {
            var text = reader.Quoted();
            return new FilterValue(null, text);
        }
        var at = reader.Position;
        var literal = new StringBuilder();
        while (!reader.AtEnd && (char.IsAsciiDigit(reader.Peek) || reader.Peek is '.' or '-' or '+' or 'e' or 'E'))
            literal.Append(reader.Advance());
        if (literal.Length > 0 && double.TryParse(literal.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture,
                out var number) && double.IsFinite(number))
            return new FilterValue(number, literal.ToString());
        if (!reader.AtEnd && char.IsAsciiLetter(reader.Peek))
        {
            var word = reader.Word();
            if (word is "true" or "false")
                return new FilterValue(null, word);
            throw new RunFilterException(at, $"expected a number or a quoted string, found '{word}' (quote strings)");
        }
        throw new RunFilterException(at, $"expected a number or a quoted string, found '{reader.Rest(12, at)}'");
    }

    /// <summary>SQL LIKE: % any run of characters, _ one; ILIKE ignores case.</summary>
    public static bool Like(string text, string pattern, bool ignoreCase)
    {
        var regex = "^" + string.Concat(pattern.Select(c => c switch
        {
            '%' => ".*",
            '_' => ".",
            _ => Regex.Escape(c.ToString()),
        })) + "$";
        return Regex.IsMatch(text, regex, (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None)
            | RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>a compared with b: numbers as numbers when both are, else as ordinal strings.</summary>
    public static bool Compare(string? actual, string comparator, FilterValue expected)
    {
        if (actual is null)
            return false;
        if (comparator is "LIKE" or "ILIKE")
            return Like(actual, expected.Text, comparator == "ILIKE");
        int order;
        if (expected.Number is { } number && double.TryParse(actual, NumberStyles.Float, CultureInfo.InvariantCulture,
                out var value))
            order = value.CompareTo(number);
        else
            order = string.CompareOrdinal(actual, expected.Text);
        return comparator switch
        {
            "=" => order == 0,
            "!=" => order != 0,
            "<" => order < 0,
            "<=" => order <= 0,
            ">" => order > 0,
            _ => order >= 0,
        };
    }

    private sealed class Reader(string text)
    {
        public int Position { get; private set; }
        public bool AtEnd => Position >= text.Length;
        public char Peek => text[Position];

        public char Advance() => text[Position++];

        public void Advance(int count) => Position += count;

        public bool StartsWith(string s) => string.CompareOrdinal(text, Position, s, 0, s.Length) == 0;

        public void SkipSpace()
        {
            while (!AtEnd && char.IsWhiteSpace(Peek))
                Position++;
        }

        public string Word()
        {
            var start = Position;
            while (!AtEnd && char.IsAsciiLetter(Peek))
                Position++;
            return text[start..Position];
        }

        public string Rest(int length, int? from = null)
        {
            var start = from ?? Position;
            return start >= text.Length ? "" : text.Substring(start, Math.Min(length, text.Length - start));
        }

        /// <summary>A string in the quote at the reader; the quote doubled, or escaped with \, stands for
        /// itself.</summary>
        public string Quoted()
        {
            var start = Position;
            var quote = Advance();
            var value = new StringBuilder();
            while (!AtEnd)
            {
                var c = Advance();
                if (c == '\\' && !AtEnd)
                    value.Append(Advance());
                else if (c == quote && !AtEnd && Peek == quote)
                    value.Append(Advance());
                else if (c == quote)
                    return value.ToString();
                else
                    value.Append(c);
            }
            throw new RunFilterException(start, $"the string opened here with {quote} is not closed");
        }
    }
}
