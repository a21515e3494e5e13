using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace Platform.EndToEnd.Tests;

/// <summary>Keys, roles, limits and the gateway as the only door.</summary>
[Collection(PlatformCollection.Name)]
public sealed class AccessTests(PlatformStack stack)
{
    private HttpClient Admin => stack.Gateway;
    private const string ValidRun =
        "\"name\":\"m\",\"model\":{\"nLayer\":1,\"nHead\":1,\"nEmbd\":8," +
        "\"blockSize\":8},\"training\":{\"maxSteps\":5," +
        "\"evalInterval\":5,\"evalIters\":1}";

    // One request in each route group, and paths nobody has claimed yet (they need a key too).
    private static readonly (HttpMethod Method, string Path)[] Routes =
    [
        (HttpMethod.Get, "/api/datasets"), (HttpMethod.Post, "/api/datasets"),
            (HttpMethod.Delete, $"/api/datasets/{Guid.NewGuid()}"),
        (HttpMethod.Get, "/api/tokenizers"), (HttpMethod.Post, $"/api/tokenizers/{Guid.NewGuid()}/encode"),
        (HttpMethod.Get, "/api/runs"), (HttpMethod.Post, "/api/runs"),
        (HttpMethod.Post, $"/api/runs/{Guid.NewGuid()}/cancel"),
        (HttpMethod.Get, "/api/models"), (HttpMethod.Get, "/api/evaluations"),
        (HttpMethod.Post, "/api/generate"), (HttpMethod.Post, "/v1/completions"), (HttpMethod.Get, "/v1/models"),
        (HttpMethod.Get, "/api/keys"), (HttpMethod.Post, "/api/keys"), (HttpMethod.Get, "/api/audit"),
        (HttpMethod.Get, "/openapi.json"), (HttpMethod.Get, "/api/not-yet-built"),
    ];

    /// <summary>An RFC 7807 problem, or on OpenAI's routes (a path under /v1) OpenAI's error envelope.</summary>
    private static void AssertProblem(HttpStatusCode expected, (HttpStatusCode Status, JsonNode? Body) response,
        string because, string? path = null)
    {
        Assert.True(response.Status == expected,
            $"{because}: expected {(int)expected}, got {(int)response.Status}: {response.Body}");
        if (path?.StartsWith("/v1/") == true)
        {
            Assert.False(string.IsNullOrEmpty(response.Body?["error"]?["message"]?.GetValue<string>()),
                $"{because}: no error message in {response.Body}");
            Assert.Equal(expected switch
            {
                HttpStatusCode.Unauthorized => "invalid_api_key",
                HttpStatusCode.NotFound => "not_found",
                HttpStatusCode.TooManyRequests => "rate_limit_exceeded",
                _ => null,
            }, response.Body!["error"]!["code"]?.GetValue<string>());
            return;
        }
        Assert.Equal((int)expected, response.Body?["status"]?.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(response.Body?["title"]?.GetValue<string>()),
            $"{because}: no title in {response.Body}");
    }

    /// <summary>Two editors and a viewer of one test's own, named "{prefix}-alice", "{prefix}-bob",
    /// "{prefix}-viewer".</summary>
    private sealed record Tenants(string AliceId, HttpClient Alice, string BobId, HttpClient Bob, HttpClient Viewer)
        : IDisposable
    {
        public void Dispose()
        {
            Alice.Dispose();
            Bob.Dispose();
            Viewer.Dispose();
        }
    }

    private async Task<Tenants> TenantsAsync(string prefix)
    {
        var (aliceId, aliceKey) = await Api.CreateKeyAsync(Admin, $"{prefix}-alice", "editor");
        var (bobId, bobKey) = await Api.CreateKeyAsync(Admin, $"{prefix}-bob", "editor");
        var (_, viewerKey) = await Api.CreateKeyAsync(Admin, $"{prefix}-viewer", "viewer");
        return new Tenants(aliceId, PlatformStack.ClientWithKey(aliceKey), bobId, PlatformStack.ClientWithKey(bobKey),
            PlatformStack.ClientWithKey(viewerKey));
    }

    private static HttpClient WithHeader(string name, string value)
    {
        var client = new HttpClient { BaseAddress = PlatformStack.GatewayAddress };
        client.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        return client;
    }

    [Fact]
    public async Task Every_route_group_refuses_a_missing_unknown_or_revoked_key_with_401()
    {
        var (revokedId, revokedKey) = await Api.CreateKeyAsync(Admin, "soon-revoked", "viewer");
        using var revoked = PlatformStack.ClientWithKey(revokedKey);
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(revoked, "/api/runs")).Status);
        Assert.Equal(HttpStatusCode.NoContent,
            (await Api.SendAsync(Admin, HttpMethod.Delete, $"/api/keys/{revokedId}")).Status);

        using var unknown = PlatformStack.ClientWithKey("plk_"
            + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)));
        using var unknownHeader = WithHeader("X-Api-Key", "plk_not-a-real-key-" + Guid.NewGuid());
        foreach (var (method, path) in Routes)
        {
            using (var request = new HttpRequestMessage(method, path))
            using (var response = await stack.Anonymous.SendAsync(request))
            {
                AssertProblem(HttpStatusCode.Unauthorized, (response.StatusCode, await Api.ReadAsync(response)),
                    $"{method} {path} without a key", path);
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            }
            AssertProblem(HttpStatusCode.Unauthorized, await Api.SendAsync(unknown, method, path),
                $"{method} {path} with an unknown bearer key", path);
            AssertProblem(HttpStatusCode.Unauthorized, await Api.SendAsync(unknownHeader, method, path),
                $"{method} {path} with an unknown X-Api-Key", path);
            AssertProblem(HttpStatusCode.Unauthorized, await Api.SendAsync(revoked, method, path),
                $"{method} {path} with a revoked key", path);
        }
        // Health needs nothing: probes and load balancers have no key. They learn only the status; an admin, which
        // check answered what.
        Assert.Equal(HttpStatusCode.OK, (await stack.Anonymous.GetAsync("/health/live")).StatusCode);
        var (ready, readiness) = await Api.GetAsync(stack.Anonymous, "/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready);
        Assert.Equal(["status"], readiness!.AsObject().Select(p => p.Key));
        Assert.Contains("destinations ready", (await Api.GetOkAsync(Admin, "/health/ready"))["checks"]!["services"]!
            ["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task Guessed_keys_are_refused_unlooked_past_a_budget_and_a_revocation_reaches_every_replica()
    {
        const int Port = 18092, CacheSeconds = 2, Budget = 5;
        stack.StartInstance("Gateway", "Gateway-3", Port, new Dictionary<string, string>
        {
            ["Gateway__RateLimits__FailedAuthenticationsPerSecond"] = "1",
            ["Gateway__RateLimits__FailedAuthenticationsBurst"] = Budget.ToString(),
            ["Gateway__RateLimits__KeyCacheSeconds"] = CacheSeconds.ToString(),
        });
        try
        {
            await Api.EventuallyAsync(async () => JsonValue.Create(await Api.ReadyAsync(Port)), r => r.GetValue<bool>(),
                TimeSpan.FromSeconds(90), stack.Logs);
            HttpClient On(string key) => new()
            {
                BaseAddress = new Uri($"http://127.0.0.1:{Port}"),
                DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", key) }
            };
            using var admin = On(stack.AdminKey);
            Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(admin, "/api/keys/me")).Status);

            // A key revoked through one replica is refused by another once its cached lookup expires.
            var (id, key) = await Api.CreateKeyAsync(Admin, "revoked-elsewhere", "viewer");
            using var revoked = On(key);
            Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(revoked, "/api/keys/me")).Status);
            var revocation = await Api.SendAsync(Admin, HttpMethod.Delete, $"/api/keys/{id}");
            Assert.Equal(HttpStatusCode.NoContent, revocation.Status);
            var revokedAt = DateTime.UtcNow;
            await Api.EventuallyAsync(
                async () => JsonValue.Create((int)(await Api.GetAsync(revoked, "/api/keys/me")).Status),
                s => s.GetValue<int>() == 401, TimeSpan.FromSeconds(10), stack.Logs);
            var took = DateTime.UtcNow - revokedAt;
            Assert.True(took < TimeSpan.FromSeconds(CacheSeconds + 1.5), $"the other replica refused it after {took}");

            // Random keys: the address's budget of failures is looked up and refused with 401, the rest with 429 and
            // Retry-After, unlooked; a key the replica knows still passes from the same address.
            Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(admin, "/api/keys/me")).Status); // looked up: cached
            var statuses = new List<HttpStatusCode>();
            HttpResponseMessage? throttled = null;
            for (var i = 0; i < Budget + 10; i++)
            {
                using var guesser = On("plk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)));
                var response = await guesser.GetAsync("/api/runs");
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    throttled ??= response;
                else
                    response.Dispose();
            }
            // The key revoked above was this replica's first failure.
            Assert.All(statuses.Take(Budget - 1), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
            Assert.True(statuses.Count(s => s == HttpStatusCode.TooManyRequests) >= 8, string.Join(",", statuses));
            Assert.NotNull(throttled);
            Assert.True(int.Parse(throttled!.Headers.GetValues("Retry-After").Single()) >= 1);
            var refusal = (throttled.StatusCode, await Api.ReadAsync(throttled));
            AssertProblem(HttpStatusCode.TooManyRequests, refusal, "a guess past the budget");
            throttled.Dispose();
            Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(admin, "/api/keys/me")).Status);
        }
        finally
        {
            await stack.StopAsync("Gateway-3");
        }
    }

    [Fact]
    public async Task Viewers_read_and_generate_editors_change_only_their_own_and_admins_everything()
    {
        var (_, viewerKey) = await Api.CreateKeyAsync(Admin, "viewer", "viewer");
        var (aliceId, aliceKey) = await Api.CreateKeyAsync(Admin, "alice", "editor");
        var (bobId, bobKey) = await Api.CreateKeyAsync(Admin, "bob", "editor");
        using var viewer = PlatformStack.ClientWithKey(viewerKey);
        using var alice = PlatformStack.ClientWithKey(aliceKey);
        using var bob = PlatformStack.ClientWithKey(bobKey);

        // A viewer reads, generates and encodes (those pass the gateway and fail only for want of a model or
        // tokenizer), and is forbidden every write.
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(viewer, "/api/runs")).Status);
        Assert.Equal("viewer", (await Api.GetOkAsync(viewer, "/api/keys/me"))["role"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound,
            (await Api.PostJsonAsync(viewer, "/api/generate", "{\"model\":\"nothing-here\",\"prompt\":\"a\"}")).Status);
        Assert.Equal(HttpStatusCode.NotFound,
            (await Api.PostJsonAsync(viewer, $"/api/tokenizers/{Guid.NewGuid()}/encode", "{\"text\":\"a\"}")).Status);
        AssertProblem(HttpStatusCode.Forbidden, await Api.UploadAsync(viewer, "viewer text\n"u8.ToArray(), "nope"),
            "viewer upload");
        AssertProblem(HttpStatusCode.Forbidden,
            await Api.PostJsonAsync(viewer, "/api/runs", $"{{\"datasetId\":\"{Guid.NewGuid()}\",{ValidRun}}}"),
            "viewer run");
        AssertProblem(HttpStatusCode.Forbidden,
            await Api.PostJsonAsync(viewer, "/api/keys", "{\"name\":\"x\",\"role\":\"admin\"}"), "viewer key");
        AssertProblem(HttpStatusCode.Forbidden, await Api.GetAsync(viewer, "/api/keys"), "viewer key list");
        AssertProblem(HttpStatusCode.Forbidden, await Api.GetAsync(viewer, "/api/audit"), "viewer audit");

        // Alice uploads and starts a run: both record her as owner.
        var (uploaded, dataset) = await Api.UploadAsync(alice, Encoding.UTF8.GetBytes(Api.DemoCorpus[..20_000]),
            "alice-data", tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, uploaded);
        var datasetId = dataset!["id"]!.GetValue<string>();
        Assert.Equal(aliceId, dataset["owner"]!["id"]!.GetValue<string>());
        Assert.Equal("alice", dataset["owner"]!["name"]!.GetValue<string>());
        var longRun =
            "\"name\":\"alice-run\",\"model\":{\"nLayer\":1,\"nHead\":1,\"nEmbd\":8," +
            "\"blockSize\":8},\"training\":{\"maxSteps\":100000,\"evalInterval\":1000,\"evalIters\":1}";
        var (started, run) = await Api.PostJsonAsync(alice, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",{longRun}}}");
        Assert.Equal(HttpStatusCode.Accepted, started);
        var runId = run!["id"]!.GetValue<string>();
        Assert.Equal("alice", run["owner"]!["name"]!.GetValue<string>());

        // Private until shared: to Bob and the viewer, her dataset and run do not exist, listed or asked for by id.
        foreach (var (who, path) in new[]
                 {
                     (bob, $"/api/datasets/{datasetId}"), (bob, $"/api/datasets/{datasetId}/content"), (bob,
                         $"/api/runs/{runId}"),
                     (bob, $"/api/runs/{runId}/metrics"), (viewer, $"/api/datasets/{datasetId}/content"),
                     (viewer, $"/api/datasets/{datasetId}/sharing"),
                 })
            AssertProblem(HttpStatusCode.NotFound, await Api.GetAsync(who, path),
                $"GET {path} of another key's private data");
        Assert.DoesNotContain((await Api.GetOkAsync(bob, "/api/datasets?limit=100"))["items"]!.AsArray(),
            d => d!["id"]!.GetValue<string>() == datasetId);
        Assert.DoesNotContain((await Api.GetOkAsync(viewer, "/api/runs?limit=100"))["items"]!.AsArray(),
            r => r!["id"]!.GetValue<string>() == runId);
        AssertProblem(HttpStatusCode.NotFound, await Api.PostJsonAsync(bob, $"/api/runs/{runId}/cancel", "{}"),
            "bob cancels a run he cannot see");
        AssertProblem(HttpStatusCode.NotFound, await Api.SendAsync(bob, HttpMethod.Delete,
            $"/api/datasets/{datasetId}"), "bob deletes a dataset he cannot see");
        AssertProblem(HttpStatusCode.NotFound, await Api.PostJsonAsync(bob, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",{ValidRun}}}"),
            "bob trains on a dataset he cannot read");
        AssertProblem(HttpStatusCode.NotFound, await Api.SendAsync(bob, HttpMethod.Put,
            $"/api/datasets/{datasetId}/sharing",
            "{\"everyone\":true}"), "bob shares a dataset he cannot see");
        var (badShare, badShareBody) = await Api.SendAsync(alice, HttpMethod.Put, $"/api/datasets/{datasetId}/sharing",
            "{}");
        Assert.Equal(HttpStatusCode.BadRequest, badShare);
        Assert.NotNull(badShareBody!["errors"]!["everyone"]);

        // Shared with Bob by his key's id: he reads (at once at Ingestion, as soon as the change has travelled
        // elsewhere), trains on it, but still may not touch what is hers; the viewer still sees nothing.
        var (shared, sharing) = await Api.SendAsync(alice, HttpMethod.Put, $"/api/datasets/{datasetId}/sharing",
            $"{{\"everyone\":false,\"readers\":[\"{bobId}\"]}}");
        Assert.True(shared == HttpStatusCode.OK, $"{(int)shared}: {sharing}");
        Assert.Equal([bobId], sharing!["readers"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(bob, $"/api/datasets/{datasetId}/content")).Status);
        await Api.EventuallyAnswersAsync(bob, $"/api/runs/{runId}", HttpStatusCode.OK, stack.Logs);
        AssertProblem(HttpStatusCode.Forbidden, await Api.PostJsonAsync(bob, $"/api/runs/{runId}/cancel", "{}"),
            "bob cancels alice's run");
        AssertProblem(HttpStatusCode.Forbidden, await Api.SendAsync(bob, HttpMethod.Delete, $"/api/runs/{runId}"),
            "bob deletes alice's run");
        AssertProblem(HttpStatusCode.Forbidden,
            await Api.SendAsync(bob, HttpMethod.Delete, $"/api/datasets/{datasetId}"), "bob deletes alice's dataset");
        AssertProblem(HttpStatusCode.Forbidden, await Api.SendAsync(bob, HttpMethod.Put,
            $"/api/datasets/{datasetId}/sharing",
            "{\"everyone\":true}"), "bob shares alice's dataset");
        AssertProblem(HttpStatusCode.NotFound, await Api.GetAsync(viewer, $"/api/runs/{runId}"),
            "the viewer reads a run not shared with it");
        var (bobRuns, bobRun) = await Api.PostJsonAsync(bob, "/api/runs",
            $"{{\"datasetId\":\"{datasetId}\",{ValidRun.Replace("\"m\"", "\"bob-on-alice\"")}}}");
        Assert.True(bobRuns == HttpStatusCode.Accepted, $"{(int)bobRuns}: {bobRun}");
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(Admin, HttpMethod.Delete,
            $"/api/runs/{bobRun!["id"]}")).Status);

        // Lists filter by owner.
        var mine = (await Api.GetOkAsync(alice, "/api/runs?owner=me"))["items"]!.AsArray();
        Assert.Contains(mine, r => r!["id"]!.GetValue<string>() == runId);
        Assert.DoesNotContain((await Api.GetOkAsync(bob, "/api/runs?owner=me"))["items"]!.AsArray(), r =>
            r!["id"]!.GetValue<string>() == runId);
        Assert.All((await Api.GetOkAsync(Admin, $"/api/datasets?owner={aliceId}"))["items"]!.AsArray(), d =>
            Assert.Equal("alice", d!["owner"]!["name"]!.GetValue<string>()));
        Assert.Contains((await Api.GetOkAsync(Admin, "/api/datasets?owner=alice"))["items"]!.AsArray(), d =>
            d!["id"]!.GetValue<string>() == datasetId);

        // Alice may cancel her own run; an admin may delete anyone's.
        var (cancelled, answer) = await Api.PostJsonAsync(alice, $"/api/runs/{runId}/cancel", "{}");
        Assert.True(cancelled == HttpStatusCode.Accepted,
            $"cancel answered {(int)cancelled}: {answer}\nrun: " +
            $"{await Api.GetOkAsync(Admin, $"/api/runs/{runId}")}\n{stack.Logs()}");
        await Api.EventuallyAsync(() => Api.GetOkAsync(Admin, $"/api/runs/{runId}"), r =>
            r["state"]!.GetValue<string>() == "Cancelled",
            TimeSpan.FromMinutes(2), stack.Logs);
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(alice, $"/api/datasets/{datasetId}/content")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(Admin, HttpMethod.Delete, $"/api/runs/{runId}")).Status);
        AssertProblem(HttpStatusCode.NotFound, await Api.GetAsync(alice, $"/api/runs/{runId}"), "a deleted run");
    }

    [Fact]
    public async Task Given_a_certificate_the_gateway_serves_https_only_and_keys_travel_encrypted()
    {
        // A self-signed certificate for 127.0.0.1, as PEM files, the way an operator mounts a CA's.
        const int Port = 18093;
        var folder = Directory.CreateTempSubdirectory("platform-tls-");
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1),
            DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Combine(folder.FullName, "tls.crt"), certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(folder.FullName, "tls.key"), rsa.ExportPkcs8PrivateKeyPem());
        stack.StartInstance("Gateway", "Gateway-tls", Port, new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"https://127.0.0.1:{Port}",
            ["Kestrel__Certificates__Default__Path"] = Path.Combine(folder.FullName, "tls.crt"),
            ["Kestrel__Certificates__Default__KeyPath"] = Path.Combine(folder.FullName, "tls.key"),
        });
        try
        {
            // The client trusts exactly this certificate: the connection is the one the gateway presented it on.
            using var handler = new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, presented, _, _) =>
                    presented?.Thumbprint == certificate.Thumbprint,
            };
            using var https = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{Port}") };
            https.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", stack.AdminKey);
            await Api.EventuallyAsync(async () =>
            {
                try
                {
                    return JsonValue.Create((int)(await Api.GetAsync(https, "/api/keys/me")).Status);
                }
                catch (HttpRequestException)
                {
                    return JsonValue.Create(0);
                }
            }, s => s.GetValue<int>() == 200, TimeSpan.FromSeconds(90), () => stack.LogsOf("Gateway-tls"));
            Assert.Equal("admin", (await Api.GetOkAsync(https, "/api/keys/me"))["role"]!.GetValue<string>());
            // Plain HTTP on that port is not served: a key sent that way reaches no handler.
            using var plain = PlatformStack.ClientWithKey(stack.AdminKey);
            plain.BaseAddress = new Uri($"http://127.0.0.1:{Port}");
            try
            {
                using var answer = await plain.GetAsync("/api/keys/me");
                Assert.NotEqual(HttpStatusCode.OK, answer.StatusCode);
            }
            catch (HttpRequestException)
            {
                // The connection closed: refused all the same.
            }
        }
        finally
        {
            await stack.StopAsync("Gateway-tls");
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task What_is_learned_from_private_data_stays_as_private_as_the_data_until_it_is_shared()
    {
        using var tenants = await TenantsAsync("lineage");
        var (alice, bob, viewer) = (tenants.Alice, tenants.Bob, tenants.Viewer);
        var name = "private-" + Guid.NewGuid().ToString("N")[..8];
        var autoTrain = $"{{\"name\":\"{name}\",\"model\":{{\"nLayer\":1,\"nHead\":1,\"nEmbd\":8,\"blockSize\":8}}," +
                        "\"training\":{\"maxSteps\":2,\"evalInterval\":2,\"evalIters\":1}}";
        var (uploaded, dataset) = await Api.UploadAsync(alice, Encoding.UTF8.GetBytes(Api.DemoCorpus[..20_000]),
            "lineage-data",
            autoTrain, tokenizer: "char");
        Assert.True(uploaded == HttpStatusCode.Accepted, $"{(int)uploaded}: {dataset}");
        var datasetId = dataset!["id"]!.GetValue<string>();
        var runId = dataset["autoTrainRunId"]!.GetValue<string>();
        var run = await Api.EventuallyAsync(async () => (await Api.GetAsync(Admin,
            $"/api/runs/{runId}")).Body ?? new JsonObject(),
            r => r["state"]?.GetValue<string>() is "Completed" or "Failed", TimeSpan.FromMinutes(3), stack.Logs);
        Assert.True(run["state"]!.GetValue<string>() == "Completed", $"{run}\n{stack.Logs()}");
        await Api.EventuallyAsync(() => Api.GetOkAsync(Admin, "/v1/models"),
            m => m["data"]!.AsArray().Any(v => v!["id"]!.GetValue<string>() == name), TimeSpan.FromSeconds(30),
                stack.Logs);
        var tokenizerId = (await Api.GetOkAsync(Admin,
            $"/api/datasets/{datasetId}"))["tokenizer"]!["id"]!.GetValue<string>();
        var evaluationId = (await Api.GetOkAsync(Admin,
            $"/api/evaluations?runId={runId}"))["items"]![0]!["id"]!.GetValue<string>();
        var generate = $"{{\"model\":\"{name}\",\"prompt\":\"RO\",\"maxTokens\":2}}";

        // Everything that carries the text (tokenizer, evaluation sample, weights, generations) is as unknown to
        // other keys as a thing that never existed, and lists leave it out.
        async Task<Dictionary<string, HttpStatusCode>> WhatTheViewerGetsAsync() => new()
        {
            ["version"] = (await Api.GetAsync(viewer, $"/api/models/{name}/versions/1")).Status,
            ["model"] = (await Api.GetAsync(viewer, $"/api/models/{name}")).Status,
            ["weights"] = (await Api.GetAsync(viewer, $"/api/models/{name}/versions/1/weights")).Status,
            ["tokenizer"] = (await Api.GetAsync(viewer, $"/api/tokenizers/{tokenizerId}")).Status,
            ["tokenizer file"] = (await Api.GetAsync(viewer, $"/api/tokenizers/{tokenizerId}/file")).Status,
            ["encode"] = (await Api.PostJsonAsync(viewer, $"/api/tokenizers/{tokenizerId}/encode",
                "{\"text\":\"RO\"}")).Status,
            ["evaluation"] = (await Api.GetAsync(viewer, $"/api/evaluations/{evaluationId}")).Status,
            ["generate"] = (await Api.PostJsonAsync(viewer, "/api/generate", generate)).Status,
            ["explain"] = (await Api.PostJsonAsync(viewer, "/api/explain",
                $"{{\"model\":\"{name}\",\"prompt\":\"RO\"}}")).Status,
            ["completions"] = (await Api.PostJsonAsync(viewer, "/v1/completions",
                $"{{\"model\":\"{name}\",\"prompt\":\"RO\",\"max_tokens\":2}}")).Status,
        };
        async Task<bool> ListedToViewerAsync() =>
            (await Api.GetOkAsync(viewer, "/v1/models"))["data"]!.AsArray().Any(m
                => m!["id"]!.GetValue<string>() == name)
            || (await Api.GetOkAsync(viewer, "/api/models?limit=100"))["items"]!.AsArray().Any(m
                => m!["name"]!.GetValue<string>() == name)
            || (await Api.GetOkAsync(viewer, $"/api/evaluations?runId={runId}"))["items"]!.AsArray().Count > 0
            || (await Api.GetOkAsync(viewer, $"/api/tokenizers?datasetId={datasetId}"))["items"]!.AsArray().Count > 0;
        Assert.All(await WhatTheViewerGetsAsync(), e => Assert.True(e.Value == HttpStatusCode.NotFound,
            $"{e.Key}: {(int)e.Value}"));
        Assert.False(await ListedToViewerAsync());
        // Bob can neither fine-tune from it nor evaluate it, though both requests are otherwise sound.
        var (fineTune, fineTuneBody) = await Api.PostJsonAsync(bob, "/api/runs",
            $"{{\"datasetId\":\"{Guid.NewGuid()}\",\"name\":\"bob-tune\"," +
            $"\"initFrom\":{{\"model\":\"{name}/versions/1\"}}," +
            "\"training\":{\"maxSteps\":2,\"evalInterval\":2,\"evalIters\":1}}");
        Assert.True(fineTune == HttpStatusCode.BadRequest, $"{(int)fineTune}: {fineTuneBody}");
        Assert.NotNull(fineTuneBody!["errors"]!["initFrom.model"]);
        AssertProblem(HttpStatusCode.NotFound, await Api.PostJsonAsync(bob, "/api/evaluations",
            $"{{\"model\":\"{name}\",\"datasetId\":\"{datasetId}\"}}"), "bob evaluates what he cannot read");
        // Its owner still sees all of it.
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(alice, $"/api/evaluations/{evaluationId}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Api.PostJsonAsync(alice, "/api/generate", generate)).Status);

        // Shared with everyone: each service follows within a message's delivery.
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(alice, HttpMethod.Put,
            $"/api/datasets/{datasetId}/sharing",
            "{\"everyone\":true}")).Status);
        var open = await Api.EventuallyAsync(async () => JsonSerializer.SerializeToNode(
                (await WhatTheViewerGetsAsync()).ToDictionary(e => e.Key, e => (int)e.Value))!,
            r => r.AsObject().All(e => e.Value!.GetValue<int>() == 200), TimeSpan.FromSeconds(30), stack.Logs);
        Assert.True(await ListedToViewerAsync(), $"{open}");
        // Where its files lie in the store is for admins: other readers get everything else.
        var seenVersion = await Api.GetOkAsync(viewer, $"/api/models/{name}/versions/1");
        var seenRun = await Api.GetOkAsync(viewer, $"/api/runs/{runId}");
        var seenEvaluation = await Api.GetOkAsync(viewer, $"/api/evaluations/{evaluationId}");
        Assert.All(new[] { seenVersion["checkpointKey"], seenVersion["tokenizerKey"], seenRun["checkpoint"]!["key"],
            seenEvaluation["checkpointKey"] }, Assert.Null);
        Assert.Equal(64, seenRun["checkpoint"]!["sha256"]!.GetValue<string>().Length);
        Assert.NotNull(seenVersion["evaluation"]);
        Assert.StartsWith("runs/", (await Api.GetOkAsync(Admin,
            $"/api/models/{name}/versions/1"))["checkpointKey"]!.GetValue<string>());

        // And private again: a revocation closes every door.
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(alice, HttpMethod.Put,
            $"/api/datasets/{datasetId}/sharing",
            "{\"everyone\":false}")).Status);
        await Api.EventuallyAsync(async () => JsonSerializer.SerializeToNode(
                (await WhatTheViewerGetsAsync()).ToDictionary(e => e.Key, e => (int)e.Value))!,
            r => r.AsObject().All(e => e.Value!.GetValue<int>() == 404), TimeSpan.FromSeconds(30), stack.Logs);
        Assert.False(await ListedToViewerAsync());
    }

    [Fact]
    public async Task A_model_name_is_its_first_owners_and_another_editor_gets_409_at_creation_until_it_is_shared()
    {
        using var tenants = await TenantsAsync("name");
        var (aliceId, alice, bobId, bob, viewer) = (tenants.AliceId, tenants.Alice, tenants.BobId, tenants.Bob,
            tenants.Viewer);
        var name = "owned-" + Guid.NewGuid().ToString("N")[..8];
        var corpus = Encoding.UTF8.GetBytes(Api.DemoCorpus[..20_000]);
        var (uploaded, dataset) = await Api.UploadAsync(alice, corpus, "names-data", tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, uploaded);
        var datasetId = dataset!["id"]!.GetValue<string>();
        // Bob may read the data (so only the name stands in his way).
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(alice, HttpMethod.Put,
            $"/api/datasets/{datasetId}/sharing",
            "{\"everyone\":true}")).Status);
        const string Spec = "\"model\":{\"nLayer\":1,\"nHead\":1,\"nEmbd\":8,\"blockSize\":8}," +
                            "\"training\":{\"maxSteps\":2,\"evalInterval\":2,\"evalIters\":1}";
        string Run(string model) => $"{{\"datasetId\":\"{datasetId}\",\"name\":\"{model}\",{Spec}}}";
        async Task<int> RunsNamedAsync() =>
            (await Api.GetOkAsync(Admin, $"/api/runs?name={name}"))["items"]!.AsArray().Count;
        Task<(HttpStatusCode Status, JsonNode? Body)> ShareAsync(HttpClient who, params string[] editors) =>
            Api.SendAsync(who, HttpMethod.Put, $"/api/models/{name}/sharing",
                new JsonObject { ["editors"] = new JsonArray([.. editors.Select(e => (JsonNode?)e)]) }.ToJsonString());
        void AssertTaken((HttpStatusCode Status, JsonNode? Body) response, string field, string because)
        {
            AssertProblem(HttpStatusCode.Conflict, response, because);
            Assert.Contains("name-alice", response.Body!["errors"]![field]![0]!.GetValue<string>());
        }

        // Alice's first run claims the name; anyone may read who holds it.
        var (first, firstRun) = await Api.PostJsonAsync(alice, "/api/runs", Run(name));
        Assert.Equal(HttpStatusCode.Accepted, first);
        await Api.EventuallyAnswersAsync(bob, $"/api/runs/{firstRun!["id"]}", HttpStatusCode.OK, stack.Logs);
        var claimed = await Api.GetOkAsync(viewer, $"/api/models/{name}/sharing");
        Assert.Equal(aliceId, claimed["owner"]!["id"]!.GetValue<string>());
        Assert.Empty(claimed["editors"]!.AsArray());

        // Bob is refused at creation, before anything trains, whichever way he comes: a run, a sweep, an import.
        AssertTaken(await Api.PostJsonAsync(bob, "/api/runs", Run(name)), "name", "bob's run under alice's name");
        var sweep = $"{{\"datasetId\":\"{datasetId}\",\"base\":{{\"name\":\"{name}\",{Spec}}}," +
                    "\"grid\":{\"training.learningRate\":[0.001,0.002]}}";
        AssertTaken(await Api.PostJsonAsync(bob, "/api/sweeps", sweep), "base.name", "bob's sweep under alice's name");
        using (var form = new MultipartFormDataContent())
        {
            form.Add(new StringContent(name), "name");
            form.Add(new ByteArrayContent([1, 2, 3]), "weights", "model.safetensors");
            form.Add(new ByteArrayContent("{}"u8.ToArray()), "tokenizer", "tokenizer.json");
            using var response = await bob.PostAsync("/api/models/import", form);
            AssertTaken((response.StatusCode, await Api.ReadAsync(response)), "name", "bob's import");
        }
        Assert.Equal(1, await RunsNamedAsync());
        // An upload's auto-train run under the name is failed at once, saying why.
        var autoTrain = $"{{\"name\":\"{name}\",{Spec}}}";
        var (bobUpload, bobDataset) = await Api.UploadAsync(bob, corpus[..5_000], "bob-data", autoTrain,
            tokenizer: "char");
        Assert.Equal(HttpStatusCode.Accepted, bobUpload);
        var autoRunPath = $"/api/runs/{bobDataset!["autoTrainRunId"]!.GetValue<string>()}";
        var autoRun = await Api.EventuallyAsync(
            async () => await Api.GetAsync(Admin, autoRunPath) is (HttpStatusCode.OK, { } r) ? r
                : new JsonObject { ["state"] = "not created yet" },
            r => r["state"]!.GetValue<string>() == "Failed", TimeSpan.FromMinutes(1), stack.Logs);
        Assert.Contains($"'{name}' belongs to another key", autoRun["failureReason"]!.GetValue<string>());

        // Only its owner or an admin shares the name; shared, Bob's run is accepted; unshared, refused again.
        AssertProblem(HttpStatusCode.Forbidden, await ShareAsync(bob, bobId), "bob shares alice's name with himself");
        var (shared, sharing) = await ShareAsync(alice, bobId);
        Assert.True(shared == HttpStatusCode.OK, $"{(int)shared}: {sharing}");
        Assert.Equal([bobId], sharing!["editors"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Accepted, (await Api.PostJsonAsync(bob, "/api/runs", Run(name))).Status);
        Assert.Equal(HttpStatusCode.OK, (await ShareAsync(alice)).Status);
        AssertTaken(await Api.PostJsonAsync(bob, "/api/runs", Run(name)), "name", "bob's run once unshared");
        // An admin may use any name.
        Assert.Equal(HttpStatusCode.Accepted, (await Api.PostJsonAsync(Admin, "/api/runs", Run(name))).Status);
        Assert.Equal(4, await RunsNamedAsync()); // Alice's, Bob's failed auto-train run, Bob's shared one, the admin's

        var (invalid, invalidBody) = await Api.SendAsync(alice, HttpMethod.Put, $"/api/models/{name}/sharing", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, invalid);
        Assert.NotNull(invalidBody!["errors"]!["editors"]);
        var unused = await Api.GetAsync(viewer, $"/api/models/never-{name}/sharing");
        AssertProblem(HttpStatusCode.NotFound, unused, "a name nobody used");
    }

    [Fact]
    public async Task Revoking_a_key_ends_the_event_streams_it_has_open()
    {
        var (viewerId, viewerKey) = await Api.CreateKeyAsync(Admin, "stream-viewer", "viewer");
        using var viewer = PlatformStack.ClientWithKey(viewerKey);
        viewer.Timeout = Timeout.InfiniteTimeSpan;
        var datasetId = await Api.TokenizedDatasetAsync(Admin, Api.DemoCorpus[..20_000], "stream-data", TimeSpan
            .FromMinutes(2), stack.Logs);
        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(Admin, HttpMethod.Put,
            $"/api/datasets/{datasetId}/sharing",
            "{\"everyone\":true}")).Status);
        var runId = await Api.StartRunAsync(Admin, datasetId, "stream-run",
            "\"model\":{\"nLayer\":1,\"nHead\":1,\"nEmbd\":8," +
            "\"blockSize\":8},\"training\":{\"maxSteps\":100000,\"evalInterval\":1000,\"evalIters\":1}", stack.Logs);
        try
        {
            await Api.EventuallyAnswersAsync(viewer, $"/api/runs/{runId}", HttpStatusCode.OK, stack.Logs);
            using var response = await viewer.GetAsync($"/api/runs/{runId}/events",
                HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var events = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[4096];
            Assert.True(await events.ReadAsync(buffer) > 0, "the stream sent its first event");

            Assert.Equal(HttpStatusCode.NoContent, (await Api.SendAsync(Admin, HttpMethod.Delete,
                $"/api/keys/{viewerId}")).Status);
            // The run trains on for a long while, so only the revocation can end the stream this soon.
            async Task DrainAsync()
            {
                try
                {
                    while (await events.ReadAsync(buffer) > 0)
                    {
                    }
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
                {
                }
            }
            var drained = DrainAsync();
            Assert.True(await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(15))) == drained,
                "the revoked key's event stream was still open 15 s after the revocation");
        }
        finally
        {
            await Api.PostJsonAsync(Admin, $"/api/runs/{runId}/cancel", "{}");
        }
    }

    [Fact]
    public async Task Keys_are_shown_once_listed_without_secrets_and_revoked_at_once()
    {
        var (created, body) = await Api.PostJsonAsync(Admin, "/api/keys", "{\"name\":\"ci-bot\",\"role\":\"editor\"}");
        Assert.Equal(HttpStatusCode.Created, created);
        var id = body!["id"]!.GetValue<string>();
        var secret = body["key"]!.GetValue<string>();
        Assert.StartsWith("plk_", secret);
        Assert.Equal("editor", body["role"]!.GetValue<string>());
        Assert.NotNull(body["createdAt"]);

        using var bot = PlatformStack.ClientWithKey(secret);
        Assert.Equal("ci-bot", (await Api.GetOkAsync(bot, "/api/keys/me"))["name"]!.GetValue<string>());
        var listing = (await Api.GetOkAsync(Admin, "/api/keys"))["items"]!;
        Assert.DoesNotContain(secret, listing.ToJsonString());
        var listed = listing.AsArray().Single(k => k!["id"]!.GetValue<string>() == id)!;
        Assert.Null(listed["key"]);
        Assert.Equal(secret[..12], listed["prefix"]!.GetValue<string>());
        Assert.NotNull(listed["lastUsedAt"]);
        Assert.Contains(listing.AsArray(), k => k!["bootstrap"]!.GetValue<bool>()
            && k["role"]!.GetValue<string>() == "admin");

        Assert.Equal(HttpStatusCode.NoContent,
            (await Api.SendAsync(Admin, HttpMethod.Delete, $"/api/keys/{id}")).Status);
        AssertProblem(HttpStatusCode.Unauthorized, await Api.GetAsync(bot, "/api/keys/me"),
            "the request right after revocation");
        Assert.DoesNotContain((await Api.GetOkAsync(Admin, "/api/keys"))["items"]!.AsArray(), k =>
            k!["id"]!.GetValue<string>() == id);
        Assert.NotNull((await Api.GetOkAsync(Admin, "/api/keys?includeRevoked=true"))["items"]!.AsArray().Single(k =>
            k!["id"]!.GetValue<string>() == id)!["revokedAt"]);

        var (badStatus, bad) = await Api.PostJsonAsync(Admin, "/api/keys",
            "{\"name\":\"\",\"role\":\"root\",\"requestsPerSecond\":0}");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.NotNull(bad!["errors"]!["name"]);
        Assert.NotNull(bad["errors"]!["role"]);
        Assert.NotNull(bad["errors"]!["requestsPerSecond"]);
        var bootstrap = (await Api.GetOkAsync(Admin, "/api/keys"))["items"]!.AsArray().Single(k =>
            k!["bootstrap"]!.GetValue<bool>())!["id"]!.GetValue<string>();
        AssertProblem(HttpStatusCode.Conflict, await Api.SendAsync(Admin, HttpMethod.Delete, $"/api/keys/{bootstrap}"),
            "revoking the bootstrap key");
    }

    [Fact]
    public async Task A_key_past_its_rate_answers_429_with_Retry_After_and_other_keys_are_unaffected()
    {
        var (_, slowKey) = await Api.CreateKeyAsync(Admin, "one-per-second", "viewer", requestsPerSecond: 1);
        using var slow = PlatformStack.ClientWithKey(slowKey);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 8; i++)
        {
            var response = await slow.GetAsync("/api/keys/me");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                refused ??= response;
            else
                response.Dispose();
        }
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 2, string.Join(",", statuses));
        Assert.NotNull(refused);
        Assert.True(int.Parse(refused!.Headers.GetValues("Retry-After").Single()) >= 1);
        AssertProblem(HttpStatusCode.TooManyRequests, (refused.StatusCode, await Api.ReadAsync(refused)),
            "the refused request");
        refused.Dispose();
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(Admin, "/api/keys/me")).Status);
    }

    /// <summary>The caller header as the gateway writes it, made here independently from the format's
    /// description.</summary>
    private static string Sign(string secret, string role, long expires, string method, string path, string service)
    {
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            $"{{\"Kid\":\"{Guid.NewGuid()}\",\"Name\":\"direct\",\"Role\":\"{role}\",\"Exp\":{expires}," +
            $"\"Method\":\"{method}\",\"Path\":\"{path}\",\"Aud\":\"{service}\"}}"));
        var mac = Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret),
            Encoding.ASCII.GetBytes($"v2.{payload}")));
        return $"v2.{payload}.{mac}";
    }

    [Fact]
    public async Task A_request_that_did_not_pass_the_gateway_is_refused_by_every_service()
    {
        var later = DateTimeOffset.UtcNow.AddSeconds(20).ToUnixTimeSeconds();
        var paths = new Dictionary<string, string>
        {
            ["Ingestion"] = "/api/datasets",
            ["Tokenization"] = "/api/tokenizers",
            ["Training"] = "/api/runs",
            ["Evaluation"] = "/api/evaluations",
            ["Generation"] = "/v1/models",
        };
        foreach (var (service, path) in paths)
        {
            var target = service.ToLowerInvariant();
            string For(string role, long expires) => Sign(stack.InternalSecret, role, expires, "GET", path, target);
            using var direct = new HttpClient { BaseAddress = PlatformStack.ServiceAddress(service) };
            AssertProblem(HttpStatusCode.Unauthorized, await Api.GetAsync(direct, path),
                $"{service} without the gateway", path);
            // The caller's API key means nothing to a service: only the gateway turns it into a signed identity.
            direct.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", stack.AdminKey);
            AssertProblem(HttpStatusCode.Unauthorized, await Api.GetAsync(direct, path),
                $"{service} with an API key but no signature", path);
            direct.DefaultRequestHeaders.Authorization = null;
            direct.DefaultRequestHeaders.Add("X-Platform-Caller",
                Sign("a-forger-s-guess-at-the-secret-0123456789", "admin", later, "GET", path, target));
            AssertProblem(HttpStatusCode.Unauthorized, await Api.GetAsync(direct, path),
                $"{service} with a forged signature", path);
            direct.DefaultRequestHeaders.Remove("X-Platform-Caller");
            var past = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds();
            direct.DefaultRequestHeaders.Add("X-Platform-Caller", For("admin", past));
            AssertProblem(HttpStatusCode.Unauthorized, await Api.GetAsync(direct, path),
                $"{service} with an expired signature", path);
            direct.DefaultRequestHeaders.Remove("X-Platform-Caller");
            // A genuine signature seen once is good for its own request only: not another path, nor another service.
            direct.DefaultRequestHeaders.Add("X-Platform-Caller", For("viewer", later));
            Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(direct, path)).Status);
            var replayed = await Api.GetAsync(direct, path + "/" + Guid.NewGuid());
            AssertProblem(HttpStatusCode.Unauthorized, replayed, $"{service}, replayed on another path", path);
            var elsewhere = paths.First(p => p.Key != service);
            using (var other = new HttpClient { BaseAddress = PlatformStack.ServiceAddress(elsewhere.Key) })
            {
                other.DefaultRequestHeaders.Add("X-Platform-Caller", For("viewer", later));
                var misdirected = await Api.GetAsync(other, path);
                AssertProblem(HttpStatusCode.Unauthorized, misdirected, $"{service}'s, at {elsewhere.Key}", path);
            }
            direct.DefaultRequestHeaders.Remove("X-Platform-Caller");
            Assert.Equal(HttpStatusCode.OK,
                (await new HttpClient { BaseAddress = PlatformStack.ServiceAddress(service) }.GetAsync("/health/ready"))
                .StatusCode);
        }

        // A service enforces the role of its own routes too: a genuinely signed viewer may not start a run.
        using var training = new HttpClient { BaseAddress = PlatformStack.ServiceAddress("Training") };
        training.DefaultRequestHeaders.Add("X-Platform-Caller",
            Sign(stack.InternalSecret, "viewer", later, "POST", "/api/runs", "training"));
        var run = $"{{\"datasetId\":\"{Guid.NewGuid()}\",{ValidRun}}}";
        var viewerRun = await Api.PostJsonAsync(training, "/api/runs", run);
        AssertProblem(HttpStatusCode.Forbidden, viewerRun, "a signed viewer starting a run at Training itself");
    }

    /// <summary>A body sent in chunks (no Content-Length), of the given size.</summary>
    private sealed class ChunkedJson(long bytes) : HttpContent
    {
        public ChunkedJson() : this(0) { }
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = Encoding.ASCII.GetBytes(new string(' ', 64 * 1024));
            await stream.WriteAsync("{\"name\":"u8.ToArray());
            for (long sent = 0; sent < bytes; sent += chunk.Length)
                await stream.WriteAsync(chunk);
            await stream.WriteAsync("\"x\"}"u8.ToArray());
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [Theory]
    [InlineData("/api/runs")]
    [InlineData("/api/keys")]
    [InlineData("/api/generate")]
    public async Task A_chunked_json_body_over_the_limit_is_refused_with_413(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ChunkedJson(2L << 20) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        using var response = await Admin.SendAsync(request);
        var body = await Api.ReadAsync(response);
        AssertProblem(HttpStatusCode.RequestEntityTooLarge, (response.StatusCode, body), $"2 MiB chunked to {path}");
        Assert.NotNull(body!["errors"]?["body"]);

        // Under the limit, the same framing is read as usual: the endpoint answers about the content, not the size.
        using var small = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ChunkedJson(64 * 1024) };
        small.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        small.Headers.TransferEncodingChunked = true;
        using var smallResponse = await Admin.SendAsync(small);
        Assert.Equal(HttpStatusCode.BadRequest, smallResponse.StatusCode);
    }

    [Fact]
    public async Task Writes_are_audited_with_who_what_when_and_outcome_and_the_log_cannot_be_rewritten()
    {
        var (viewerId, viewerKey) = await Api.CreateKeyAsync(Admin, "audited-viewer", "viewer");
        using var viewer = PlatformStack.ClientWithKey(viewerKey);
        await Api.UploadAsync(viewer, "refused\n"u8.ToArray(), "refused");
        await Api.GetAsync(viewer, "/api/runs");

        var page = await Api.GetOkAsync(Admin, "/api/audit?limit=50");
        var entries = page["items"]!.AsArray();
        var creation = entries.First(e => e!["method"]!.GetValue<string>() == "POST"
            && e["path"]!.GetValue<string>() == "/api/keys"
                                          && e["location"]?.GetValue<string>() == $"/api/keys/{viewerId}")!;
        Assert.Equal(201, creation["status"]!.GetValue<int>());
        Assert.Equal("admin", creation["keyName"]!.GetValue<string>());
        Assert.True(DateTimeOffset.UtcNow - creation["at"]!.GetValue<DateTimeOffset>() < TimeSpan.FromMinutes(5));
        var refusal = entries.First(e => e!["keyId"]!.GetValue<string>() == viewerId)!;
        Assert.Equal(403, refusal["status"]!.GetValue<int>());
        Assert.Equal("/api/datasets", refusal["path"]!.GetValue<string>());
        Assert.DoesNotContain(entries, e => e!["keyId"]!.GetValue<string>() == viewerId
            && e["method"]!.GetValue<string>() == "GET");

        // Pages go back in time without overlap.
        var first = await Api.GetOkAsync(Admin, "/api/audit?limit=2");
        var next = await Api.GetOkAsync(Admin, $"/api/audit?limit=2&cursor={first["nextCursor"]}");
        Assert.True(next["items"]![0]!["id"]!.GetValue<long>() < first["items"]![1]!["id"]!.GetValue<long>());

        await using var connection = new NpgsqlConnection(stack.PostgresConnection);
        await connection.OpenAsync();
        await using var update = new NpgsqlCommand("UPDATE gateway.audit_log SET \"Status\" = 200", connection);
        var ex = await Assert.ThrowsAsync<PostgresException>(() => update.ExecuteNonQueryAsync());
        Assert.Contains("append-only", ex.MessageText);
        await using var delete = new NpgsqlCommand("DELETE FROM gateway.audit_log", connection);
        await Assert.ThrowsAsync<PostgresException>(() => delete.ExecuteNonQueryAsync());
    }
}
