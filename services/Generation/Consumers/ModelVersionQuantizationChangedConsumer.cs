using Generation.Data;
using MassTransit;
using Platform.Contracts;

namespace Generation.Consumers;

/// <summary>
/// Keeps how a version is served (int8 or as trained): the newest setting by its sequence, so a redelivered or late
/// older one changes nothing. A setting that arrives before the version's registration is retried until it is known.
/// </summary>
public sealed class ModelVersionQuantizationChangedConsumer(GenerationDbContext db)
    : IConsumer<ModelVersionQuantizationChanged>
{
    public async Task Consume(ConsumeContext<ModelVersionQuantizationChanged> context)
    {
        var m = context.Message;
        var model = await db.Models.FindAsync([m.Name, m.Version], context.CancellationToken)
            ?? throw new InvalidOperationException($"{m.Name} v{m.Version} is not registered here yet.");
        if (m.Sequence <= model.QuantizationSequence)
            return;
        (model.Quantization, model.QuantizationSequence) = (m.Quantization, m.Sequence);
        await db.SaveChangesAsync(context.CancellationToken);
    }
}
