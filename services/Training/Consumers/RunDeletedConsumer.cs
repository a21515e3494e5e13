using MassTransit;
using Platform.Contracts;
using Training.Runs;

namespace Training.Consumers;

/// <summary>Removes a deleted run's files again, so a crash between the deletion's commit and the files' removal loses
/// nothing.</summary>
public sealed class RunDeletedConsumer(RunDeletion deletion) : IConsumer<RunDeleted>
{
    public Task Consume(ConsumeContext<RunDeleted> context)
    {
        deletion.RemoveFiles(context.Message.RunId);
        return Task.CompletedTask;
    }
}
