using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Contracts;
using Training.Data;
using Training.Runs;

namespace Platform.Services.Tests;

/// <summary>
/// A run added while its dataset's tokenization is announced, against a real PostgreSQL (a database of its own,
/// dropped afterwards): the auto-train consumer reads the dataset's projection before it takes the dataset's lock, and
/// DatasetTokenized can commit in between.
/// </summary>
public sealed class RunCreationRaceTests() : TrainingDatabase("race")
{
    [Fact]
    public async Task A_run_added_on_a_projection_read_before_its_dataset_was_tokenized_is_queued_not_left_waiting()
    {
        var datasetId = Guid.NewGuid();
        await using var consumer = Services.CreateAsyncScope();
        var db = consumer.ServiceProvider.GetRequiredService<TrainingDbContext>();
        db.Datasets.Add(new KnownDataset
        {
            Id = datasetId,
            Name = "d",
            Status = DatasetStatus.Ingested,
            UpdatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();   // the consumer's projection, still tracked as Ingested

        // DatasetTokenized commits from another context (its consumer finds no waiting run to release yet).
        await using (var tokenized = Services.CreateAsyncScope())
        {
            var other = tokenized.ServiceProvider.GetRequiredService<TrainingDbContext>();
            var row = await other.Datasets.SingleAsync(d => d.Id == datasetId);
            (row.Status, row.TokenizerKey, row.VocabSize) = (DatasetStatus.Tokenized, "tokenizers/t/tokenizer.json",
                65);
            await other.SaveChangesAsync();
        }

        var creation = new RunCreation(db, null!, null!, null!, null!);
        await using var transaction = await db.Database.BeginTransactionAsync();
        var (run, refused) = await creation.AddAsync(
            new PreparedRun(new RunSpec { Name = "auto" }, datasetId, null, null, null), null, null,
            CancellationToken.None);
        Assert.Null(refused);
        await db.SaveChangesAsync();
        await transaction.CommitAsync();
        Assert.Equal(RunState.Queued, run!.State);
    }
}
