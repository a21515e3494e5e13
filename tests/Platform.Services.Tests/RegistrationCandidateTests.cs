using Platform.Contracts;
using Training.Registry.Data;

namespace Platform.Services.Tests;

/// <summary>The registry assembles a version from TrainingCompleted and EvaluationCompleted, which may arrive in either
/// order.</summary>
public sealed class RegistrationCandidateTests
{
    private static readonly Guid RunId = Guid.NewGuid(), DatasetId = Guid.NewGuid();
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static TrainingCompleted Trained(string checkpoint = "runs/x/best.ckpt") =>
        new(RunId, "shakespeare", checkpoint, "sha", "tokenizers/t.json", "val.bin", 1000, 900, 2000, 1.7, 1.9, T0,
        Architectures.Gpt, null)
        {
            DatasetId = DatasetId,
            Owner = new Owner(Guid.Empty, "alice"),
            RegisteredValidationLoss = 1.85,
            Cost = new RunCost { WallSeconds = 60, Tokens = 1_000_000, Price = 0.12m },
        };

    private static EvaluationCompleted Evaluated() =>
        new(RunId, Guid.NewGuid(), new EvaluationFigures(new Dictionary<string, double>
        {
            ["loss"] = 1.88,
            ["perplexity"] = Math.Exp(1.88),
            ["bitsPerByte"] = 2.7,
            ["top1Accuracy"] = 0.45,
            ["top5Accuracy"] = 0.8,
            ["tokensEvaluated"] = 900,
        }), "ROMEO: ...",
        T0.AddMinutes(1));

    [Fact]
    public void Either_half_first_the_candidate_is_ready_only_with_both_and_the_version_carries_what_each_half_brought()
    {
        foreach (var order in new[] { true, false })
        {
            var candidate = RegistrationCandidate.For(RunId);
            if (order)
                candidate.RecordTraining(Trained());
            else
                candidate.RecordEvaluation(Evaluated());
            Assert.False(candidate.IsReady);
            Assert.Throws<InvalidOperationException>(() => candidate.Register(1, T0));
            if (order)
                candidate.RecordEvaluation(Evaluated());
            else
                candidate.RecordTraining(Trained());
            Assert.True(candidate.IsReady);

            var version = candidate.Register(4, T0.AddMinutes(2));
            Assert.Equal(("shakespeare", 4, RunId, DatasetId, "alice"),
                (version.Name, version.Version, version.RunId, version.DatasetId, version.OwnerName));
            Assert.Equal(("runs/x/best.ckpt", "tokenizers/t.json", 1.85),
                (version.CheckpointKey, version.TokenizerKey, version.ValidationLoss));
            Assert.Equal(0.45, version.Evaluation!["top1Accuracy"]);
            Assert.Equal(0.12m, version.Cost!.Price);
            Assert.Equal((CandidateState.Registered, (int?)4), (candidate.State, candidate.RegisteredVersion));
            Assert.False(candidate.IsReady);   // a redelivered half registers nothing more
        }
    }

    [Fact]
    public void A_resumed_run_that_trains_again_replaces_the_trained_half_until_it_is_registered()
    {
        var candidate = RegistrationCandidate.For(RunId);
        candidate.RecordTraining(Trained("runs/x/latest.ckpt"));
        candidate.RecordTraining(Trained("runs/x/best.ckpt"));
        candidate.RecordEvaluation(Evaluated());
        Assert.Equal("runs/x/best.ckpt", candidate.Register(1, T0).CheckpointKey);
        candidate.RecordTraining(Trained("runs/x/other.ckpt"));
        Assert.Equal("runs/x/best.ckpt", candidate.CheckpointKey);
    }

    [Fact]
    public void A_run_deleted_before_either_half_arrives_is_never_registered()
    {
        var candidate = RegistrationCandidate.For(RunId);
        candidate.MarkDeleted();
        candidate.RecordTraining(Trained());
        candidate.RecordEvaluation(Evaluated());
        Assert.False(candidate.IsReady);
        Assert.Throws<InvalidOperationException>(() => candidate.Register(1, T0));
    }
}
