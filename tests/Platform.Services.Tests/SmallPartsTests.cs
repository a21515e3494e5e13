using Platform.Contracts;
using Generation.Serving;
using Ingestion.Apis;
using Training.Runs;

namespace Platform.Services.Tests;

public class SmallPartsTests
{
    [Fact]
    public void Downsampling_keeps_the_ends_and_the_extremes()
    {
        var points = Enumerable.Range(0, 10_000).Select(i => i == 5_000 ? 100.0 : i == 7_000 ? -100.0
            : Math.Sin(i / 100.0)).ToList();
        var thinned = SeriesDownsampler.Downsample(points, 500, p => p);
        Assert.InRange(thinned.Count, 250, 500);
        Assert.Equal(points[0], thinned[0]);
        Assert.Equal(points[^1], thinned[^1]);
        Assert.Contains(100.0, thinned);
        Assert.Contains(-100.0, thinned);
        Assert.Same(points, SeriesDownsampler.Downsample(points, 20_000, p => p));
    }

    [Theory]
    [InlineData("shakespeare-char", "shakespeare-char", null, null)]
    [InlineData("shakespeare-char/versions/3", "shakespeare-char", 3, null)]
    [InlineData("shakespeare-char@production", "shakespeare-char", null, "production")]
    [InlineData("shakespeare-char@latest", "shakespeare-char", null, null)]
    [InlineData("m@canary_2", "m", null, "canary_2")]
    public void Model_references_name_a_model_and_optionally_a_version_or_an_alias(string text, string name,
        int? version, string? alias) =>
        Assert.Equal(new ModelReference(name, version, alias), ModelReference.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("a/versions/0")]
    [InlineData("a/versions/x")]
    [InlineData("../etc")]
    [InlineData("a@Production")]
    [InlineData("a@")]
    [InlineData("a@1")]
    [InlineData("a/versions/2@production")]
    public void Malformed_model_references_are_refused(string text) => Assert.Null(ModelReference.Parse(text));

    [Fact]
    public void Upload_fields_default_and_validate()
    {
        var (ok, _) = UploadFields.Parse(new Dictionary<string, string> { ["name"] = "corpus" });
        Assert.Equal(0.1, ok!.ValidationFraction);
        Assert.Equal("bpe", ok.Tokenizer.Kind);
        Assert.Equal(8192, ok.Tokenizer.VocabSize);
        Assert.Null(ok.AutoTrain);

        var (bad, errors) = UploadFields.Parse(new Dictionary<string, string>
        {
            ["validationFraction"] = "0.9",
            ["tokenizer"] = "sentencepiece",
            ["autoTrain"] = "[\"not a run\"]",
        });
        Assert.Null(bad);
        Assert.Equal(new[] { "name", "validationFraction", "tokenizer.kind", "autoTrain" }.Order(),
            errors.Fields.Order());
        // A run Training would refuse is still an object: the upload takes it as sent, for Training to judge.
        var (taken, _) = UploadFields.Parse(new Dictionary<string, string>
        {
            ["name"] = "c",
            ["autoTrain"] = "{\"name\":\"m\",\"model\":{\"nHead\":3,\"nEmbd\":128}}",
        });
        Assert.Equal("{\"name\":\"m\",\"model\":{\"nHead\":3,\"nEmbd\":128}}", taken!.AutoTrain);

        var (_, vocabErrors) = UploadFields.Parse(new Dictionary<string,
            string>
        { ["name"] = "c", ["tokenizer"] = "{\"kind\":\"bpe\",\"vocabSize\":100}" });
        Assert.Equal(["tokenizer.vocabSize"], vocabErrors.Fields);
        var (bpe, _) = UploadFields.Parse(new Dictionary<string,
            string>
        { ["name"] = "c", ["tokenizer"] = "{\"kind\":\"bpe\",\"vocabSize\":512}" });
        Assert.Equal(512, bpe!.Tokenizer.VocabSize);
    }
}
