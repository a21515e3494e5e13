using MassTransit;
using Platform.Contracts;
using Training.Data;

namespace Training.Consumers;

/// <summary>A run whose evaluation failed ends Failed with the evaluator's reason (no version is registered).</summary>
public sealed class EvaluationFailedConsumer(TrainingDbContext db) : IConsumer<EvaluationFailed>
{
    public async Task Consume(ConsumeContext<EvaluationFailed> context)
    {
        var run = await db.Runs.FindAsync([context.Message.RunId], context.CancellationToken);
        if (run is null || run.State != RunState.Evaluating)
            return;
        run.Fail($"Evaluation failed: {context.Message.Reason}");
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
