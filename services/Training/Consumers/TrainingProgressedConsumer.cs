using MassTransit;
using Platform.Contracts;
using Training.Runs;

namespace Training.Consumers;

/// <summary>
/// Passes progress to this instance's live views. Its queue is temporary and per instance, so every Training instance
/// hears every run's progress; nothing is stored, so a redelivery only repeats a chart point.
/// </summary>
public sealed class TrainingProgressedConsumer(RunProgressFeed feed) : IConsumer<TrainingProgressed>
{
    public Task Consume(ConsumeContext<TrainingProgressed> context)
    {
        feed.Publish(context.Message);
        return Task.CompletedTask;
    }
}
