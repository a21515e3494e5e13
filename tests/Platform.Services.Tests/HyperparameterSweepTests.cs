using System.Text.Json.Nodes;
using Platform.Contracts;
using Training.Apis;
using Training.Data;
using Training.Runs;
using Training.Sweeps;

namespace Platform.Services.Tests;

/// <summary>A sweep's search space, expanded to runs, and the sweep's own transitions and figures.</summary>
public class HyperparameterSweepTests
{
    private static IReadOnlyList<SweepParameter> Parse(string json, bool random, out ValidationErrors errors)
    {
        errors = new ValidationErrors();
        return SweepSpace.Parse(JsonNode.Parse(json)!.AsObject(), random ? "random" : "grid", random, errors);
    }

    [Fact]
    public void A_grid_makes_every_combination_once_with_the_last_parameter_varying_fastest()
    {
        var parameters = Parse("""{"training.learningRate": [0.001, 0.003], "model.nlayer": [1, 2, 3]}""",
            random: false, out var errors);
        Assert.True(errors.IsValid);
        Assert.Equal(["training.learningRate", "model.nLayer"], parameters.Select(p => p.Path));   // canonical spelling
        Assert.Equal(6, SweepSpace.GridSize(parameters));
        var grid = SweepSpace.Grid(parameters).Select(a =>
            $"{a["training.learningRate"]}/{a["model.nLayer"]}").ToList();
        Assert.Equal(["0.001/1", "0.001/2", "0.001/3", "0.003/1", "0.003/2", "0.003/3"], grid);
    }

    [Theory]
    [InlineData("""{"training.learningrate": [0.1], "training.learningRate": [0.2]}""", "grid.training.learningRate",
        "second time")]
    [InlineData("""{"training.noSuchField": [1]}""", "grid.training.noSuchField", "not a run parameter")]
    [InlineData("""{"name": ["a"]}""", "grid.name", "not a run parameter")]
    [InlineData("""{"model.nLayer": [1.5]}""", "grid.model.nLayer", "integer")]
    [InlineData("""{"model.nLayer": []}""", "grid.model.nLayer", "list of 1 to")]
    [InlineData("""{"model.nLayer": [2, 2]}""", "grid.model.nLayer", "twice")]
    [InlineData("""{"training.learningRate": {"min": 0.001, "max": 0.01}}""", "grid.training.learningRate",
        "ranges are for random")]
    [InlineData("""{}""", "grid", "at least one parameter")]
    public void A_bad_grid_is_refused_naming_the_parameter(string json, string field, string message)
    {
        Parse(json, random: false, out var errors);
        var found = errors.ToDictionary();
        Assert.True(found.ContainsKey(field), string.Join("; ", found.Keys));
        Assert.Contains(message, string.Join(" ", found[field]));
    }

    [Theory]
    [InlineData("""{"training.learningRate": {"min": 0.01, "max": 0.001}}""", "min < max")]
    [InlineData("""{"training.learningRate": {"min": 0, "max": 0.01, "scale": "log"}}""", "min > 0")]
    [InlineData("""{"training.learningRate": {"min": 0.001, "max": 0.01, "scale": "cubic"}}""", "scale")]
    [InlineData("""{"training.learningRate": {"min": 0.001, "max": 0.01, "step": 2}}""", "unknown field")]
    [InlineData("""{"model.nLayer": {"min": 1.2, "max": 1.8}}""", "no integer")]
    [InlineData("""{"model.bias": {"min": 0, "max": 1}}""", "list of values")]
    public void A_bad_range_is_refused_naming_the_parameter(string json, string message)
    {
        Parse(json, random: true, out var errors);
        var all = errors.ToDictionary();
        Assert.Single(all);
        Assert.Contains(message, string.Join(" ", all.Single().Value));
    }

    [Fact]
    public void Random_draws_are_distinct_within_their_ranges_and_the_same_for_the_same_seed()
    {
        var parameters = Parse("""
            {"training.learningRate": {"min": 0.0001, "max": 0.1, "scale": "log"}, "model.nLayer": {"min": 1, "max": 4},
             "model.bias": [true, false]}
            """, random: true, out var errors);
        Assert.True(errors.IsValid, string.Join("; ", errors.Fields));
        var first = SweepSpace.Draw(parameters, 40, seed: 7);
        var again = SweepSpace.Draw(parameters, 40, seed: 7);
        var other = SweepSpace.Draw(parameters, 40, seed: 8);
        Assert.Equal(40, first.Count);
        string Key(IReadOnlyDictionary<string, JsonNode> a) => string.Join(",", a.Select(p => p.Value.ToJsonString()));
        Assert.Equal(first.Select(Key), again.Select(Key));
        Assert.NotEqual(first.Select(Key), other.Select(Key));
        Assert.Equal(40, first.Select(Key).Distinct().Count());
        Assert.All(first, a =>
        {
            Assert.InRange(a["training.learningRate"].GetValue<double>(), 0.0001, 0.1);
            Assert.InRange(a["model.nLayer"].GetValue<int>(), 1, 4);
        });
        // All four layer counts and both bias values turn up in 40 draws (each is missed with probability < 1e-4).
        Assert.Equal([1, 2, 3, 4], first.Select(a => a["model.nLayer"].GetValue<int>()).Distinct().Order());
        Assert.Equal(2, first.Select(a => a["model.bias"].GetValue<bool>()).Distinct().Count());
    }

    [Fact]
    public void A_log_range_draws_as_often_in_each_decade()
    {
        // Log-uniform over 1e-4..1e-1: each of the three decades holds a third of the draws (the oracle: the
        // definition); a linear draw would put 90% of them in the top decade.
        var parameters = Parse("""{"training.learningRate": {"min": 0.0001, "max": 0.1, "scale": "log"}}""",
            random: true, out _);
        var draws = SweepSpace.Draw(parameters, 3000, seed: 1).Select(a =>
            a["training.learningRate"].GetValue<double>()).ToList();
        var decades = draws.GroupBy(x => (int)Math.Floor(Math.Log10(x))).ToDictionary(g => g.Key, g => g.Count());
        foreach (var decade in new[] { -4, -3, -2 })
            Assert.InRange(decades.GetValueOrDefault(decade), 850, 1150);   // 1000 ± 4.6 standard deviations
        var linear = Parse("""{"training.learningRate": {"min": 0.0001, "max": 0.1}}""", random: true, out _);
        var top = SweepSpace.Draw(linear, 3000, seed: 1).Count(a =>
            a["training.learningRate"].GetValue<double>() >= 0.01);
        Assert.InRange(top, 2600, 2800);   // 90.1% of 3000 = 2703
    }

    [Fact]
    public void Applying_an_assignment_sets_each_field_whatever_the_base_spells_and_leaves_the_base_alone()
    {
        var run = JsonNode.Parse("""{"name": "m", "Training": {"LearningRate": 0.5, "maxSteps": 10}, "model": 3}""")!
            .AsObject();
        var applied = SweepSpace.Apply(run,
            new Dictionary<string, JsonNode> { ["training.learningRate"] = 0.003, ["model.nLayer"] = 2 });
        Assert.Equal("""{"name":"m","Training":{"maxSteps":10,"learningRate":0.003},"model":{"nLayer":2}}""",
            applied.ToJsonString());
        Assert.Equal(0.5, run["Training"]!["LearningRate"]!.GetValue<double>());
    }

    private static Run RunWith(RunState end, double? bestValidationLoss, DateTimeOffset? started = null)
    {
        var run = Run.Create(Guid.NewGuid(), new RunSpec { Name = "m" }, Guid.NewGuid(), null, Guid.NewGuid());
        run.Queue();
        if (end == RunState.Cancelled)
        {
            run.RequestCancel();
            return run;
        }
        run.Start(0);
        if (bestValidationLoss is { } loss)
            run.RecordProgress(new RunProgressSnapshot { Step = 10, ValidationLoss = loss + 1 });
        if (bestValidationLoss is { } best)
            run.RecordProgress(new RunProgressSnapshot { Step = 20, ValidationLoss = best });
        if (end == RunState.Failed)
            run.Fail("boom");
        else if (end == RunState.Completed)
        {
            run.FinishTraining(10, "k", new string('0', 64), 20);
            run.Complete(1);
        }
        return run;
    }

    private static Sweep NewSweep() =>
        Sweep.Create(Guid.NewGuid(), "m", Guid.NewGuid(), "grid", "{}", null, 3, Sweep.ValidationLoss, "best", null);

    [Fact]
    public void A_sweep_ends_with_its_best_completed_run_and_refuses_to_end_while_a_run_goes_on()
    {
        var failedButLowest = RunWith(RunState.Failed, 0.5);
        var best = RunWith(RunState.Completed, 1.25);
        var runs = new List<Run> { RunWith(RunState.Completed, 1.75), failedButLowest, best };
        var sweep = NewSweep();
        var going = RunWith(RunState.Training, 0.1);
        var ex = Assert.Throws<SweepStateException>(() => sweep.Finish([.. runs, going]));
        Assert.Contains(going.Id.ToString(), ex.Message);

        sweep.Finish(runs);
        Assert.Equal(SweepState.Completed, sweep.State);
        Assert.Equal(best.Id, sweep.BestRunId);
        Assert.Equal(1.25, sweep.BestValue);
        Assert.Throws<SweepStateException>(() => sweep.RequestCancel());
        Assert.Throws<SweepStateException>(() => sweep.Finish(runs));
        var completed = sweep.Completed(best);
        Assert.Equal(("Completed", "best", "m", 1),
            (completed.State, completed.PromoteAlias, completed.BestModelName, completed.BestVersion));
    }

    [Fact]
    public void A_sweep_with_no_completed_run_fails_and_a_cancelled_one_ends_cancelled_whatever_completed()
    {
        var failed = NewSweep();
        failed.Finish([RunWith(RunState.Failed, 0.5), RunWith(RunState.Cancelled, null)]);
        Assert.Equal((SweepState.Failed, (Guid?)null), (failed.State, failed.BestRunId));

        var cancelled = NewSweep();
        cancelled.RequestCancel();
        var completed = RunWith(RunState.Completed, 2.0);
        cancelled.Finish([completed, RunWith(RunState.Cancelled, null)]);
        Assert.Equal(SweepState.Cancelled, cancelled.State);
        Assert.Equal(completed.Id, cancelled.BestRunId);
    }

    [Fact]
    public void The_peak_counts_runs_whose_spans_overlap_and_a_start_at_an_end_does_not()
    {
        var t = DateTimeOffset.UnixEpoch;
        // Spans [0,10], [5,15], [10,20], [12,13]: at 12.5 three overlap ([5,15], [10,20], [12,13]); [0,10] ends as
        // [10,20] starts.
        Assert.Equal(3, SweepResponse.PeakAtOnce([Span(t, 0, 10), Span(t, 5, 15), Span(t, 10, 20), Span(t, 12, 13)]));
        Assert.Equal(1, SweepResponse.PeakAtOnce([Span(t, 0, 10), Span(t, 10, 20), Span(t, 20, 30)]));
        Assert.Equal(0, SweepResponse.PeakAtOnce([]));
    }

    [Fact]
    public void Evaluation_after_training_does_not_count_as_training_at_once()
    {
        // One worker: run A trains [0,10] and is evaluated until 14, while run B trains [10,20]. Never two in training.
        var t = DateTimeOffset.UnixEpoch;
        var a = Span(t, 0, 10);
        typeof(Run).GetProperty(nameof(Run.FinishedAt))!.SetValue(a, t.AddSeconds(14));
        Assert.Equal(1, SweepResponse.PeakAtOnce([a, Span(t, 10, 20)]));
        // A run that failed in training never reached evaluation: its end is when it stopped.
        var failed = RunWith(RunState.Failed, 1.0);
        typeof(Run).GetProperty(nameof(Run.StartedAt))!.SetValue(failed, t.AddSeconds(5));
        typeof(Run).GetProperty(nameof(Run.FinishedAt))!.SetValue(failed, t.AddSeconds(12));
        Assert.Equal(2, SweepResponse.PeakAtOnce([a, Span(t, 10, 20), failed]));
    }

    /// <summary>A completed run that trained from <paramref name="from"/> to <paramref name="to"/> seconds after t (and
    /// ended then).</summary>
    private static Run Span(DateTimeOffset t, int from, int to)
    {
        var run = RunWith(RunState.Completed, 1.0);
        typeof(Run).GetProperty(nameof(Run.StartedAt))!.SetValue(run, t.AddSeconds(from));
        typeof(Run).GetProperty(nameof(Run.TrainedAt))!.SetValue(run, t.AddSeconds(to));
        typeof(Run).GetProperty(nameof(Run.FinishedAt))!.SetValue(run, t.AddSeconds(to));
        return run;
    }
}
