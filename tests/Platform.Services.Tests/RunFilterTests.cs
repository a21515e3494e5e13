using Training.Runs;

namespace Platform.Services.Tests;

public class RunFilterTests
{
    [Fact]
    public void The_issues_example_parses_into_three_clauses()
    {
        var clauses = RunFilter.Parse(
            "metrics.val_loss < 1.9 and params.training.learningRate = 0.001 AND tags.team = \"nlp\"");
        Assert.Equal(3, clauses.Count);
        Assert.Equal(new FilterOperand(FilterScope.Metrics, "val_loss"), clauses[0].Operand);
        Assert.Equal("<", clauses[0].Comparator);
        Assert.Equal(1.9, clauses[0].Value.Number);
        Assert.Equal(new FilterOperand(FilterScope.Params, "training.learningRate"), clauses[1].Operand);
        Assert.Equal(0.001, clauses[1].Value.Number);
        Assert.Equal(new FilterOperand(FilterScope.Tags, "team"), clauses[2].Operand);
        Assert.Null(clauses[2].Value.Number);
        Assert.Equal("nlp", clauses[2].Value.Text);
    }

    [Fact]
    public void Quoted_names_escaped_quotes_and_every_comparator_parse()
    {
        var clauses = RunFilter.Parse("params.`my param` != 'it''s' and attributes.name LIKE 'base%' and " +
                                      "metrics.\"top-1\" >= 0.5 and tags.t ILIKE \"A\\\"b\" and metrics.m<=1e-3");
        Assert.Equal(["!=", "LIKE", ">=", "ILIKE", "<="], clauses.Select(c => c.Comparator));
        Assert.Equal("my param", clauses[0].Operand.Name);
        Assert.Equal("it's", clauses[0].Value.Text);
        Assert.Equal("top-1", clauses[2].Operand.Name);
        Assert.Equal("A\"b", clauses[3].Value.Text);
        Assert.Equal(0.001, clauses[4].Value.Number);
        Assert.Empty(RunFilter.Parse("   "));
    }

    // Each fault is reported at the character where it starts (0-based), counted by hand.
    [Theory]
    [InlineData("metrics.val_loss lt 1.9", 17, "expected a comparator")]
    [InlineData("metric.loss < 1 or tags.a = 'b'", 16, "expected AND or the end")]
    [InlineData("weights.x = 1", 0, "expected metrics., params., tags. or attributes.")]
    [InlineData("params.lr = abc", 12, "quote strings")]
    [InlineData("tags.team = 'nlp", 12, "is not closed")]
    [InlineData("metrics.loss = 'low'", 15, "is a number")]
    [InlineData("attributes.colour = 'red'", 11, "is not an attribute")]
    [InlineData("metrics.loss < 1 and ", 21, "expected a clause after AND")]
    [InlineData("tags.team > 'a'", 10, "tags compare with")]
    [InlineData("metrics.loss <", 14, "found the end")]
    [InlineData("params. = 1", 7, "expected a name")]
    public void A_fault_is_refused_with_its_position(string filter, int position, string message)
    {
        var fault = Assert.Throws<RunFilterException>(() => RunFilter.Parse(filter));
        Assert.Equal(position, fault.Position);
        Assert.Contains(message, fault.Message);
        Assert.StartsWith($"at position {position}: ", fault.Message);
    }

    [Fact]
    public void Orderings_parse_with_their_directions_and_faults_have_positions()
    {
        var order = RunFilter.ParseOrder("metrics.val_loss ASC, params.training.learningRate desc,attributes.created");
        Assert.Equal([false, true, false], order.Select(o => o.Descending));
        Assert.Equal(["metrics.val_loss", "params.training.learningRate", "attributes.created"],
            order.Select(o => o.Operand.ToString()));
        Assert.Equal(17, Assert.Throws<RunFilterException>(() => RunFilter.ParseOrder("metrics.val_loss UP")).Position);
        Assert.Equal(18, Assert.Throws<RunFilterException>(() => RunFilter.ParseOrder("metrics.val_loss, ")).Position);
    }

    [Theory]
    [InlineData("0.001", "=", "0.001", null, true)]
    [InlineData("1e-3", "=", "0.001", null, true)]
    [InlineData("10", ">", "9", null, true)]
    [InlineData("10", ">", null, "9", false)]
    [InlineData("nlp", "=", null, "nlp", true)]
    [InlineData("nlp", "!=", null, "vision", true)]
    [InlineData("baseline-3", "LIKE", null, "base%", true)]
    [InlineData("Baseline", "LIKE", null, "base%", false)]
    [InlineData("Baseline", "ILIKE", null, "base_ine", true)]
    [InlineData(null, "=", null, "x", false)]
    [InlineData(null, "!=", null, "x", false)]
    public void Values_compare_as_numbers_when_both_are_else_as_strings(string? actual, string comparator,
        string? number, string? text, bool expected)
    {
        var value = number is null
            ? new FilterValue(null, text!)
            : new FilterValue(double.Parse(number, System.Globalization.CultureInfo.InvariantCulture), number);
        Assert.Equal(expected, RunFilter.Compare(actual, comparator, value));
    }
}
