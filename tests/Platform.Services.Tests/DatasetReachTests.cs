using Platform.Contracts;
using Platform.ServiceDefaults.Security;

namespace Platform.Services.Tests;

/// <summary>Who may read a dataset and what was learned from it, as every service's copy of its reach
/// decides.</summary>
public sealed class DatasetReachTests
{
    private static readonly Guid Dataset = Guid.NewGuid(), Owner = Guid.NewGuid(), Reader = Guid.NewGuid(),
        Other = Guid.NewGuid();

    private static Caller Key(Guid id, string role = Roles.Editor) => new(id, "k", role);

    private static DatasetSharingChanged Change(long sequence, bool everyone = false, params Guid[] readers) =>
        new(Dataset, Owner, everyone, readers, sequence, DateTimeOffset.UtcNow);

    [Fact]
    public void A_private_dataset_admits_its_owner_admins_and_the_services_only()
    {
        var reach = DatasetReach.For(Dataset);
        Assert.True(reach.Apply(Change(1)));
        Assert.True(reach.Admits(Key(Owner)));
        Assert.True(reach.Admits(Key(Other, Roles.Admin)));
        Assert.True(reach.Admits(Key(Caller.ServiceKeyId, Roles.Viewer)));
        Assert.False(reach.Admits(Key(Other)));
        Assert.False(reach.Admits(Key(Reader, Roles.Viewer)));
    }

    [Fact]
    public void Sharing_admits_the_named_keys_or_everyone_and_an_older_change_arriving_late_is_ignored()
    {
        var reach = DatasetReach.For(Dataset);
        reach.Apply(Change(2, false, Reader));
        Assert.True(reach.Admits(Key(Reader, Roles.Viewer)));
        Assert.False(reach.Admits(Key(Other)));
        Assert.False(reach.Apply(Change(1, true)));
        Assert.False(reach.Apply(Change(2, true)));
        Assert.False(reach.Admits(Key(Other)));
        Assert.True(reach.Apply(Change(3, true)));
        Assert.True(reach.Admits(Key(Other, Roles.Viewer)));
        Assert.True(reach.Apply(Change(4)));
        Assert.False(reach.Admits(Key(Reader, Roles.Viewer)));
    }

    [Fact]
    public void A_lineage_is_covered_only_when_every_dataset_in_it_is_readable_and_an_unknown_one_by_admins_alone()
    {
        Guid a = Guid.NewGuid(), b = Guid.NewGuid();
        Guid[] readable = [a, DatasetReaches.NoDataset];
        Assert.True(readable.Covers([a]));
        Assert.True(readable.Covers([]));
        Assert.False(readable.Covers([a, b]));
        Assert.False(readable.Covers(null));
        Assert.True(((Guid[]?)null).Covers(null));
    }
}

/// <summary>Failure reasons any reader sees name no server path.</summary>
public sealed class PublicReasonTests
{
    [Theory]
    [InlineData("Could not read '/data/artifacts/runs/3f2a/latest.ckpt': bad header",
        "Could not read '[file]': bad header")]
    [InlineData("No space left on device : '/tmp/platform-staging/x.part'", "No space left on device : '[file]'")]
    [InlineData("shape [4, 8] does not match 2/3 of the layers", "shape [4, 8] does not match 2/3 of the layers")]
    [InlineData("see https://example.org/docs/page", "see https://example.org/docs/page")]
    public void Paths_are_left_out_of_a_reason_and_the_rest_stays(string message, string expected) =>
        Assert.Equal(expected, Platform.ServiceDefaults.Reliability.PublicReason.Scrub(message));

    [Fact]
    public void A_missing_file_is_said_in_words() =>
        Assert.Equal("a stored file is missing", Platform.ServiceDefaults.Reliability.PublicReason.Of(
            new FileNotFoundException("Could not find file '/data/artifacts/x/model.pt'.")));
}
