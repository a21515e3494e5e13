using MassTransit;
using Platform.Contracts;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// A run was queued: wake this instance's training worker, which claims queued runs from the database. The message
/// is acknowledged at once; a busy worker leaves the run to another instance or to its next look, so no delivery is
/// held open for the length of a run.
/// </summary>
public sealed class StartTrainingConsumer(TrainingWorker worker) : IConsumer<StartTraining>
{
    public Task Consume(ConsumeContext<StartTraining> context)
    {
        worker.Wake();
        return Task.CompletedTask;
    }
}

public sealed class StartTrainingConsumerDefinition : ConsumerDefinition<StartTrainingConsumer>
{
    public StartTrainingConsumerDefinition() => EndpointName = Queues.StartTraining;
}
