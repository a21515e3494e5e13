using MassTransit;
using Platform.Contracts;

namespace Training.Registry.Consumers;

/// <summary>The evaluated half of a registration: with the trained half in, the run becomes the next version of its
/// model.</summary>
public sealed class EvaluationCompletedConsumer(Registrar registrar) : IConsumer<EvaluationCompleted>
{
    public Task Consume(ConsumeContext<EvaluationCompleted> context) =>
        registrar.RecordAsync(context.Message.RunId, c => c.RecordEvaluation(context.Message),
        context.CancellationToken);
}
