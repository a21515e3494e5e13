using MassTransit;
using Platform.ServiceDefaults.Reliability;
using Training.Data;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// A message about runs gave up after its retries (one of this service's own consumers faulted): the runs it would have
/// left in a non-final state fail, with the exception in the reason. Each message's fault consumer says which runs
/// those are and what failed.
/// </summary>
public abstract class RunFaultConsumer<TMessage>(TrainingDbContext db,
    ILogger logger) : IConsumer<Fault<TMessage>> where TMessage : class
{
    /// <summary>What was being done, as the reason begins: "Starting the run".</summary>
    protected abstract string What { get; }

    /// <summary>What the user can do about it, appended to the reason.</summary>
    protected virtual string Remedy => "";

    /// <summary>The runs the message would have stranded, each in the non-final state it would have stayed
    /// in.</summary>
    protected abstract IQueryable<Run> Stranded(IQueryable<Run> runs, TMessage message);

    public Task Consume(ConsumeContext<Fault<TMessage>> context)
    {
        var fault = context.Message;
        if (!fault.IsFromThisService())
            return Task.CompletedTask;
        return RunFaults.FailAsync(db, Stranded(db.Runs, fault.Message), fault.Reason(What) + Remedy, logger,
            context.CancellationToken);
    }
}
