using Platform.Contracts;
using Platform.ServiceDefaults.Persistence;
using Training.Registry.Data;

namespace Platform.Services.Tests;

public sealed class RegistryRuleTests
{
    private static ModelVersion Version(double? validationLoss, double top1) => new()
    {
        Name = "m",
        Version = 3,
        ValidationLoss = validationLoss,
        Evaluation = new EvaluationFigures(new Dictionary<string, double>
        {
            ["loss"] = 1.5,
            ["perplexity"] = Math.Exp(1.5),
            ["bitsPerByte"] = 2.1,
            ["top1Accuracy"] = top1,
            ["top5Accuracy"] = 0.9,
            ["tokensEvaluated"] = 1000,
        }),
    };

    private static PromotionGate Gate(Dictionary<string, GateBound> requires)
    {
        var gate = PromotionGate.Create("m", "production");
        gate.Require(requires, "admin", DateTimeOffset.UnixEpoch);
        return gate;
    }

    [Fact]
    public void A_gate_passes_a_version_only_within_every_bound_and_fails_one_without_the_figure()
    {
        var gate = Gate(new()
        {
            ["val_loss"] = new(null, 1.9),
            ["top1_accuracy"] = new(0.4, null),
            ["perplexity"] = new(1, 5)
        });
        Assert.All(gate.Check(Version(1.9, 0.4)), c => Assert.True(c.Passes, c.Figure));   // bounds are inclusive
        var failing = gate.Check(Version(1.91, 0.39)).Where(c => !c.Passes).Select(c => (c.Figure, c.Value)).ToList();
        Assert.Equal([("val_loss", (double?)1.91), ("top1_accuracy", 0.39)], failing);
        var missing = gate.Check(Version(null, 0.5)).Single(c => c.Figure == "val_loss");
        Assert.False(missing.Passes);
        Assert.Null(missing.Value);
        // exp(1.5) = 4.4817 is within [1, 5].
        Assert.True(gate.Check(Version(1.0, 0.5)).Single(c => c.Figure == "perplexity").Passes);
    }

    [Fact]
    public void Every_gate_figure_reads_a_value_of_a_fully_evaluated_version()
    {
        var v = Version(1.2, 0.4);
        v.Evaluation = new EvaluationFigures(new Dictionary<string, double>(v.Evaluation!.Metrics)
        {
            ["macroPrecision"] = 0.1,
            ["macroRecall"] = 0.2,
            ["macroF1"] = 0.3,
            ["expectedCalibrationError"] = 0.04,
            ["bleu"] = 50,
            ["chrF"] = 60,
            ["exactMatch"] = 0.7,
            ["pairsEvaluated"] = 10,
            ["int8Loss"] = 1.21,
        });
        Assert.All(GateFigures.Names, name => Assert.NotNull(GateFigures.Of(v, name)));
        Assert.Equal(0.2, GateFigures.Of(v, "macro_recall"));
        Assert.Null(GateFigures.Of(v, "no_such_figure"));
    }

    [Fact]
    public void A_projected_alias_keeps_the_newest_move_whatever_order_the_moves_arrive_in()
    {
        var moves = new[]
        {
            new ModelAliasMoved("m", "production", 1, 10, DateTimeOffset.UnixEpoch),
            new ModelAliasMoved("m", "production", 2, 11, DateTimeOffset.UnixEpoch),
            new ModelAliasMoved("m", "production", null, 12, DateTimeOffset.UnixEpoch),
            new ModelAliasMoved("m", "production", 3, 13, DateTimeOffset.UnixEpoch),
        };
        foreach (var order in new[] { new[] { 0, 1, 2, 3 }, [3, 2, 1, 0], [1, 3, 0, 2], [0, 0, 3, 3, 1] })
        {
            var alias = ProjectedAlias.For("m", "production");
            foreach (var i in order)
                alias.Apply(moves[i]);
            Assert.Equal(3, alias.Version);
            Assert.Equal(13, alias.Sequence);
        }
        var removed = ProjectedAlias.For("m", "production");
        removed.Apply(moves[2]);
        Assert.False(removed.Apply(moves[1]));   // a late, older move does not bring a removed alias back
        Assert.Null(removed.Version);
    }

    [Theory]
    [InlineData("production", true)]
    [InlineData("canary-2", true)]
    [InlineData("latest", false)]
    [InlineData("Production", false)]
    [InlineData("2nd", false)]
    [InlineData("", false)]
    public void Alias_names_are_lower_case_words_and_latest_is_reserved(string alias, bool valid) =>
        Assert.Equal(valid, ModelAliases.IsValid(alias));

    [Fact]
    public void A_name_takes_versions_from_its_owner_the_keys_it_is_shared_with_and_admins_only()
    {
        var (alice, bob, carol) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var name = ModelName.Claim("support-bot", new Owner(alice, "alice"), DateTimeOffset.UnixEpoch);
        Assert.True(name.AllowsRegistrationBy(alice, isAdmin: false));
        Assert.False(name.AllowsRegistrationBy(bob, isAdmin: false));
        Assert.True(name.AllowsRegistrationBy(bob, isAdmin: true));
        // A service call (the empty key id) is nobody's: it never inherits a name.
        Assert.False(name.AllowsRegistrationBy(Platform.ServiceDefaults.Security.Caller.ServiceKeyId, isAdmin: false));

        name.ShareWith([bob, bob, alice]);
        Assert.Equal([bob], name.Editors);   // once each, and not the owner
        Assert.True(name.AllowsRegistrationBy(bob, isAdmin: false));
        Assert.False(name.AllowsRegistrationBy(carol, isAdmin: false));
        name.ShareWith([]);
        Assert.False(name.AllowsRegistrationBy(bob, isAdmin: false));
        var tooMany = Enumerable.Range(0, ModelName.MaxEditors + 1).Select(_ => Guid.NewGuid()).ToList();
        Assert.Throws<ArgumentException>(() => name.ShareWith(tooMany));

        // A name from before keys has no owner: only admins register under it.
        var legacy = ModelName.Claim("old-model", null, DateTimeOffset.UnixEpoch);
        Assert.False(legacy.AllowsRegistrationBy(alice, isAdmin: false));
        Assert.True(legacy.AllowsRegistrationBy(alice, isAdmin: true));
    }
    [Fact]
    public void A_version_is_served_int8_or_as_trained_and_each_change_is_announced_once_in_order()
    {
        var version = Version(1.2, 0.5);
        var at = DateTimeOffset.UnixEpoch;
        var first = version.SetQuantization(Quantizations.Int8, at);
        Assert.Equal(new ModelVersionQuantizationChanged("m", 3, "int8", 1, at), first);
        Assert.Null(version.SetQuantization(Quantizations.Int8, at)); // already so: nothing to announce
        Assert.Equal(new ModelVersionQuantizationChanged("m", 3, null, 2, at),
            version.SetQuantization(Quantizations.None, at));
        Assert.Throws<ArgumentException>(() => version.SetQuantization("int4", at));

        var translation = Version(1.2, 0.5);
        translation.Architecture = Architectures.EncoderDecoder;
        Assert.Throws<InvalidOperationException>(() => translation.SetQuantization(Quantizations.Int8, at));
        Assert.Null(translation.SetQuantization(Quantizations.None, at));
        Assert.Null(translation.Quantization);
    }
}
