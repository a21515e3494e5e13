using MassTransit;
using Platform.Contracts;

namespace Training.Registry.Consumers;

/// <summary>A deleted run's versions leave the registry (a cascade deletion of the run or its dataset), and it
/// registers nothing later.</summary>
public sealed class RunDeletedConsumer(Registrar registrar) : IConsumer<RunDeleted>
{
    public Task Consume(ConsumeContext<RunDeleted> context) =>
        registrar.ForgetRunAsync(context.Message.RunId, context.CancellationToken);
}
