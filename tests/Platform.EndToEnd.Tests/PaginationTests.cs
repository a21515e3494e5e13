using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

/// <summary>Cursor pagination (?limit=&amp;cursor= → nextCursor) on every list, through the gateway.</summary>
[Collection(PlatformCollection.Name)]
public sealed class PaginationTests(PlatformStack stack)
{
    private const string TinyRun =
        "\"model\":{\"nLayer\":1,\"nHead\":1,\"nEmbd\":8,\"blockSize\":8},\"training\":{\"maxSteps\":1," +
        "\"evalInterval\":1,\"evalIters\":1}";

    private HttpClient Http => stack.Gateway;

    [Theory]
    [InlineData("/api/datasets")]
    [InlineData("/api/runs")]
    [InlineData("/api/models")]
    [InlineData("/api/tokenizers")]
    [InlineData("/api/evaluations")]
    [InlineData("/api/keys")]
    [InlineData("/api/audit")]
    [InlineData("/api/vectors")]
    public async Task Every_list_pages_by_cursor_and_names_a_bad_limit_or_cursor(string path)
    {
        // Enough of everything for two pages of one: a key (keys, audit) and a trained run (the rest).
        await Api.CreateKeyAsync(Http, $"pages-{Guid.NewGuid():N}"[..20], "viewer");
        await Api.CreateKeyAsync(Http, $"pages-{Guid.NewGuid():N}"[..20], "viewer");

        var (badLimit, badLimitBody) = await Api.GetAsync(Http, $"{path}?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, badLimit);
        Assert.Equal(["limit"], badLimitBody!["errors"]!.AsObject().Select(e => e.Key));
        var (badCursor, badCursorBody) = await Api.GetAsync(Http, $"{path}?cursor=not-a-cursor");
        Assert.Equal(HttpStatusCode.BadRequest, badCursor);
        Assert.Equal(["cursor"], badCursorBody!["errors"]!.AsObject().Select(e => e.Key));

        var all = (await Api.GetOkAsync(Http, $"{path}?limit=1000"))["items"]!.AsArray();
        var paged = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Api.GetOkAsync(Http, $"{path}?limit=2" + (cursor is null ? "" : $"&cursor={cursor}"));
            Assert.InRange(page["items"]!.AsArray().Count, 0, 2);
            paged.AddRange(page["items"]!.AsArray().Select(Identity));
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null && paged.Count < 60);
        // Paging two at a time gives the list's first items in the same order, none twice.
        Assert.Equal(all.Select(Identity).Take(paged.Count), paged);
        Assert.Equal(paged.Count, paged.Distinct().Count());
    }

    private static string Identity(JsonNode? item) => item!["id"]?.ToJsonString() ?? item["name"]!.GetValue<string>();

    [Fact]
    public async Task Paging_through_runs_neither_repeats_nor_skips_a_run_while_new_ones_are_created()
    {
        var (uploaded, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..5_000]),
            "pages-data", tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, uploaded);
        var datasetId = dataset!["id"]!.GetValue<string>();
        async Task<string> CreateAsync()
        {
            var (status, run) = await Api.PostJsonAsync(Http, "/api/runs",
                $"{{\"datasetId\":\"{datasetId}\",\"name\":\"paged\",{TinyRun}}}");
            Assert.Equal(HttpStatusCode.Accepted, status);
            return run!["id"]!.GetValue<string>();
        }
        var existing = new List<string>();
        for (var i = 0; i < 5; i++)
            existing.Add(await CreateAsync());
        existing.Reverse();   // newest first

        var first = await Api.GetOkAsync(Http, "/api/runs?name=paged&limit=2");
        var seen = first["items"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()).ToList();
        var cursor = first["nextCursor"]!.GetValue<string>();
        await CreateAsync();   // created between pages: newer than everything, so on no later page
        await CreateAsync();
        while (cursor is not null)
        {
            var page = await Api.GetOkAsync(Http, $"/api/runs?name=paged&limit=2&cursor={cursor}");
            seen.AddRange(page["items"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
        }
        Assert.Equal(existing, seen);

        // A cursor belongs to its order.
        var byStep = await Api.GetOkAsync(Http, "/api/runs?name=paged&limit=1&orderBy=step");
        var (mixed, mixedBody) = await Api.GetAsync(Http,
            $"/api/runs?name=paged&limit=1&cursor={byStep["nextCursor"]}");
        Assert.Equal(HttpStatusCode.BadRequest, mixed);
        Assert.Equal(["cursor"], mixedBody!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task The_outbox_overview_pages_every_outbox_in_one_order_with_ties_neither_repeated_nor_skipped()
    {
        // Parked rows written straight into four outboxes: seven at one instant (a tie across outboxes), two a second
        // earlier.
        var marker = $"Test.PagingMarker{Guid.NewGuid():N}";
        var instant = new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await using var db = new Npgsql.NpgsqlConnection(stack.PostgresConnection);
        await db.OpenAsync();
        async Task<(string Service, long Id)> ParkAsync(string service, string schema, DateTimeOffset at)
        {
            await using var insert = new Npgsql.NpgsqlCommand(
                $"INSERT INTO {schema}.outbox_messages (\"MessageType\", \"Body\", \"CreatedAt\", \"Attempts\", " +
                $"\"ParkedAt\", \"LastError\") " +
                "VALUES (@t, '{}'::jsonb, @at, 5, now(), 'parked by the test') RETURNING \"Id\"", db)
            { Parameters = { new("t", marker), new("at", at) } };
            return (service, (long)(await insert.ExecuteScalarAsync())!);
        }
        var rows = new List<(string Service, long Id)>();
        foreach (var (service, schema) in new[] { ("training", "training"), ("ingestion", "ingestion"),
            ("registry", "registry"), ("evaluation", "evaluation") })
            for (var i = 0; i < (service == "registry" ? 1 : 2); i++)
                rows.Add(await ParkAsync(service, schema, instant));
        rows.Add(await ParkAsync("tokenization", "tokenization", instant.AddSeconds(-1)));
        rows.Add(await ParkAsync("tokenization", "tokenization", instant.AddSeconds(-1)));
        // Independent of the gateway's code: newest first, then outbox name, then highest id.
        var expected = rows.Take(7).OrderBy(r => r.Service, StringComparer.Ordinal).ThenByDescending(r => r.Id)
            .Concat(rows.Skip(7).OrderByDescending(r => r.Id)).ToList();

        var seen = new List<(string Service, long Id)>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Api.GetOkAsync(Http, "/api/admin/outbox?state=parked&limit=2"
                + (cursor is null ? "" : $"&cursor={cursor}"));
            Assert.Empty(page["unanswered"]!.AsArray());
            var items = page["items"]!.AsArray();
            Assert.InRange(items.Count, 0, 2);
            seen.AddRange(items.Where(r => r!["messageType"]!.GetValue<string>() == marker)
                .Select(r => (r!["service"]!.GetValue<string>(), r["id"]!.GetValue<long>())));
            cursor = page["nextCursor"]?.GetValue<string>();
            if (pages++ == 0)
                // newer than every page still to come
                await ParkAsync("ingestion", "ingestion", DateTimeOffset.UtcNow);
        } while (cursor is not null && pages < 500);
        Assert.Equal(expected, seen);

        var (badCursor, badCursorBody) = await Api.GetAsync(Http, "/api/admin/outbox?cursor=not-a-cursor");
        Assert.Equal(HttpStatusCode.BadRequest, badCursor);
        Assert.Equal(["cursor"], badCursorBody!["errors"]!.AsObject().Select(e => e.Key));
    }
}
