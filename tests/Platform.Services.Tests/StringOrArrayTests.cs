using System.Text.Json;
using Generation.Apis;

namespace Platform.Services.Tests;

/// <summary>OpenAI's "string or array of strings" fields, as its API reference defines them.</summary>
public sealed class StringOrArrayTests
{
    [Theory]
    [InlineData("null", new string[0])]
    [InlineData("\"a\"", new[] { "a" })]
    [InlineData("[]", new string[0])]
    [InlineData("[\"a\",\"b\"]", new[] { "a", "b" })]
    public void Strings_and_arrays_of_strings_are_read(string json, string[] expected) =>
        Assert.Equal(expected, StringOrArray.Read(JsonDocument.Parse(json).RootElement, 2));

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("[\"a\",1]")]
    [InlineData("{\"a\":1}")]
    [InlineData("[\"a\",\"b\",\"c\"]")]
    public void Token_arrays_other_values_and_too_many_strings_are_not(string json) =>
        Assert.Null(StringOrArray.Read(JsonDocument.Parse(json).RootElement, 2));

    [Fact]
    public void An_absent_field_is_no_strings() => Assert.Equal([], StringOrArray.Read(null, 2)!);
}
