using MassTransit;
using Platform.Contracts;

namespace Training.Registry.Consumers;

/// <summary>The trained half of a registration: what the run produced, kept until its evaluation arrives (or registered
/// now if it came first).</summary>
public sealed class TrainingCompletedConsumer(Registrar registrar) : IConsumer<TrainingCompleted>
{
    public Task Consume(ConsumeContext<TrainingCompleted> context) =>
        registrar.RecordAsync(context.Message.RunId, c => c.RecordTraining(context.Message), context.CancellationToken);
}
