using MassTransit;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts;
using Platform.ServiceDefaults.Persistence;
using Training.Registry.Data;

namespace Training.Registry.Consumers;

/// <summary>
/// With Cascade, the versions learned from a deleted dataset that its deleter was shown leave the registry, whoever
/// owns them: its own runs' versions (also removed by their RunDeleted) and fine-tunes on other data resting on them,
/// each with the aliases pointing to it. A version not on that list stays. Repeated, it finds nothing left to remove.
/// </summary>
public sealed class DatasetDeletedConsumer(RegistryDbContext db, Registrar registrar) : IConsumer<DatasetDeleted>
{
    public async Task Consume(ConsumeContext<DatasetDeleted> context)
    {
        var m = context.Message;
        if (!m.Cascade)
            return;
        await db.ChangeUnderLockAsync(m.DatasetId, async () =>
        {
            var learned = await db.ModelVersions.Where(v => v.Lineage.Contains(m.DatasetId))
                .ToListAsync(context.CancellationToken);
            foreach (var version in learned.Where(v => m.ModelVersions is null
                                                        || m.ModelVersions.Contains($"{v.Name}/versions/{v.Version}")))
                await registrar.RemoveAsync(version, $"cascade deletion of dataset {m.DatasetId} by {m.DeletedBy.Name}",
                    context.CancellationToken);
            return true;
        }, context.CancellationToken);
    }
}
