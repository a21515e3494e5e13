using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpenAI.Chat;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// Conversations through the whole pipeline: a chat dataset (a system prompt, a date in words from the user, and the
/// assistant's ISO form of it) is uploaded, a GPT trains on the assistant's turns only, is registered with its chat
/// template, and answers OpenAI's official chat client, whole and streamed.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed partial class ChatTests(PlatformStack stack)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(6);
    private static readonly string[] Months = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames[..12];
    private const string System = "Write the date in ISO form.";

    private HttpClient Http => stack.Gateway;

    private static string Words(DateOnly date) => $"{date.Day} {Months[date.Month - 1]} {date.Year}";

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A conversation: the date in ISO form, or (asked "as JSON") as an object.</summary>
    private static string Line(DateOnly date, bool json = false) => new JsonObject
    {
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = System },
            new JsonObject { ["role"] = "user", ["content"] = Words(date) + (json ? " as JSON" : "") },
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = json ? $"{{\"date\":\"{Iso(date)}\",\"year\":{date.Year},\"sure\":true}}"
                    : Iso(date),
            }),
    }.ToJsonString();

    private static byte[] Conversations(int count, int seed)
    {
        var random = new Random(seed);
        return Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, count).Select(i =>
            Line(new DateOnly(1950, 1, 1).AddDays(random.Next(0, 36_500)), json: i % 3 == 0))) + "\n");
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$")]
    private static partial Regex IsoDate();

    [Fact]
    public async Task A_conversation_dataset_trains_a_chat_model_that_OpenAIs_chat_client_talks_to()
    {
        // A malformed conversation refuses the whole upload, naming its line.
        var bad = Encoding.UTF8.GetBytes(Line(new DateOnly(2000, 1, 1)) + "\n"
            + "{\"messages\":[{\"role\":\"user\",\"content\":\"no reply\"}]}\n");
        var (badStatus, refused) = await Api.UploadAsync(Http, bad, "chat-bad", format: "chat");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Contains("line 2: the conversation has no assistant message", refused!["errors"]!["file"]![0]!
            .GetValue<string>());

        const string autoTrain = """
            {"name":"e2e-chat",
             "model":{"nLayer":3,"nHead":4,"nEmbd":64,"blockSize":128,"dropout":0.0},
             "training":{"maxSteps":1000,"batchSize":32,"learningRate":0.003,"warmupSteps":50,"evalInterval":500,
                         "evalIters":5,"seed":5}}
            """;
        var (status, dataset) = await Api.UploadAsync(Http, Conversations(1500, 3), "date-chats", autoTrain,
            tokenizer: "char", format: "chat", validationFraction: "0.1");
        Assert.True(status == HttpStatusCode.Accepted, $"upload answered {(int)status}: {dataset}");
        var chat = dataset!["chat"]!;
        Assert.Equal((1500, 150), (chat["conversations"]!.GetValue<long>(),
            chat["validationConversations"]!.GetValue<long>()));
        Assert.Equal(1500, chat["turns"]!["assistant"]!.GetValue<long>());
        Assert.Equal(1000 * 10 + 500 * "{\"date\":\"2023-04-15\",\"year\":2023,\"sure\":true}".Length,
            chat["characters"]!["assistant"]!.GetValue<long>());
        Assert.Equal(1500 * System.Length, chat["characters"]!["system"]!.GetValue<long>());

        var runId = dataset["autoTrainRunId"]!.GetValue<string>();
        var datasetId = dataset["id"]!.GetValue<string>();
        var tokenized = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{datasetId}"),
            d => d["state"]!.GetValue<string>() is "Tokenized" or "Failed", Deadline, stack.Logs);
        Assert.True(tokenized["state"]!.GetValue<string>() == "Tokenized", $"{tokenized}");
        var run = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{runId}"),
            r => r["state"]!.GetValue<string>() is "Completed" or "Failed" or "Cancelled", Deadline, stack.Logs);
        Assert.True(run["state"]!.GetValue<string>() == "Completed", $"run ended {run}\n{stack.Logs()}");
        var version = run["modelVersion"]!.GetValue<int>();
        var registered = await Api.GetOkAsync(Http, $"/api/models/e2e-chat/versions/{version}");
        Assert.Contains("<|im_start|>", registered["chatTemplate"]!.GetValue<string>());
        // Scored on the held-out assistant tokens only: the dates' digits and dashes are nearly certain by now.
        var evaluation = registered["evaluation"]!;
        Assert.InRange(evaluation["loss"]!.GetValue<double>(), 0, 1.0);
        // And by its greedy replies to the 150 held-out conversations' last turns, against the data's.
        Assert.Equal(150, evaluation["pairsEvaluated"]!.GetValue<long>());
        Assert.True(evaluation["exactMatch"]!.GetValue<double>() >= 0.8, $"{evaluation}");
        Assert.Contains(" → ", registered["sample"]!.GetValue<string>());

        // Exported for Hugging Face's libraries: the tokenizer, and its config with the template and the markers.
        var tokenizerJson = await Api.GetOkAsync(Http, $"/api/models/e2e-chat/versions/{version}/files/tokenizer.json");
        var config = await Api.GetOkAsync(Http,
            $"/api/models/e2e-chat/versions/{version}/files/tokenizer_config.json");
        Assert.Equal(registered["chatTemplate"]!.GetValue<string>(), config["chat_template"]!.GetValue<string>());
        Assert.Equal("<|im_end|>", config["eos_token"]!.GetValue<string>());
        foreach (var marker in tokenizerJson["added_tokens"]!.AsArray())
            Assert.Equal(marker!["content"]!.GetValue<string>(),
                config["added_tokens_decoder"]![marker["id"]!.GetValue<int>().ToString(CultureInfo.InvariantCulture)]!
                    ["content"]!.GetValue<string>());
        Assert.Equal(["<|im_start|>", "<|im_end|>"], tokenizerJson["added_tokens"]!.AsArray()
            .Select(t => t!["content"]!.GetValue<string>()));
        // A character vocabulary has no GGUF form llama.cpp would read: refused, naming the field, with the reason.
        var (gguf, ggufBody) = await Api.GetAsync(Http, $"/api/models/e2e-chat/versions/{version}/weights?format=gguf");
        Assert.Equal(HttpStatusCode.BadRequest, gguf);
        Assert.Contains("character-level", ggufBody!["errors"]!["format"]![0]!.GetValue<string>());

        var key = new global::System.ClientModel.ApiKeyCredential(stack.AdminKey);
        var options = new OpenAI.OpenAIClientOptions { Endpoint = new Uri(PlatformStack.GatewayAddress, "/v1") };
        var client = new ChatClient($"e2e-chat/versions/{version}", key, options);
        await Api.EventuallyAsync(() => Api.GetOkAsync(Http, "/v1/models"),
            m => m["data"]!.AsArray().Any(e => e!["id"]!.GetValue<string>() == $"e2e-chat/versions/{version}"),
            TimeSpan.FromSeconds(30), stack.Logs);

        ChatMessage[] conversation = [new SystemChatMessage(System), new UserChatMessage(Words(new(2031, 7, 4)))];
        ChatMessage[] asJson =
            [new SystemChatMessage(System), new UserChatMessage(Words(new(2031, 7, 4)) + " as JSON")];
        var greedy = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 20 };
        var reply = (await client.CompleteChatAsync(conversation, greedy)).Value;
        var text = reply.Content.Single().Text;
        // The model learned to answer with a date and to end its turn (the end marker, not the token limit).
        Assert.True(IsoDate().IsMatch(text), $"reply '{text}'");
        Assert.Equal(ChatFinishReason.Stop, reply.FinishReason);
        Assert.Equal(ChatMessageRole.Assistant, reply.Role);
        Assert.Equal(11, reply.Usage.OutputTokenCount); // ten characters and the end marker

        // Streamed, the deltas make the same reply, and the last update carries the usage.
        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync(conversation, greedy))
        {
            foreach (var part in update.ContentUpdate)
                streamed.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal(text, streamed.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal((reply.Usage.InputTokenCount, 11), (usage!.InputTokenCount, usage.OutputTokenCount));

        // n choices with log-probabilities, and max_completion_tokens ending them at the limit.
        var (rawStatus, raw) = await Api.PostJsonAsync(Http, "/v1/chat/completions", $$"""
            {"model":"e2e-chat","messages":[{"role":"developer","content":"{{System}}"},
             {"role":"user","content":[{"type":"text","text":"1 May 1999"}]}],
             "n":2,"seed":4,"temperature":0.7,"max_completion_tokens":4,"logprobs":true,"top_logprobs":3}
            """);
        Assert.True(rawStatus == HttpStatusCode.OK, $"{raw}");
        Assert.Equal("chat.completion", raw!["object"]!.GetValue<string>());
        var choices = raw["choices"]!.AsArray();
        Assert.Equal([0, 1], choices.Select(c => c!["index"]!.GetValue<int>()));
        Assert.All(choices, c =>
        {
            Assert.Equal("length", c!["finish_reason"]!.GetValue<string>());
            Assert.Equal(4, c["message"]!["content"]!.GetValue<string>().Length);
            var tokens = c["logprobs"]!["content"]!.AsArray();
            Assert.Equal(4, tokens.Count);
            Assert.All(tokens, t => Assert.Equal(3, t!["top_logprobs"]!.AsArray().Count));
        });

        // Structured output: the reply follows the schema, whatever the model would rather write.
        var schema = """
            {"type":"object","properties":{"date":{"type":"string","maxLength":10},"year":{"type":"integer"},
             "sure":{"type":"boolean"}},"required":["date","year","sure"]}
            """;
        var structured = new ChatCompletionOptions
        {
            Temperature = 0.8f,
            MaxOutputTokenCount = 80,
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("date", BinaryData.FromString(schema)),
        };
        for (var seed = 0; seed < 3; seed++)
        {
#pragma warning disable OPENAI001 // the seed is an experimental option of the client
            structured.Seed = seed;
#pragma warning restore OPENAI001
            var json = (await client.CompleteChatAsync(asJson, structured)).Value;
            Assert.Equal(ChatFinishReason.Stop, json.FinishReason);
            var document = JsonNode.Parse(json.Content.Single().Text)!.AsObject();
            Assert.Equal(["date", "sure", "year"], document.Select(p => p.Key).Order(StringComparer.Ordinal));
            Assert.True(document["date"]!.GetValue<string>().Length <= 10);
            _ = document["year"]!.GetValue<long>();
            _ = document["sure"]!.GetValue<bool>();
        }
        var (choiceStatus, choice) = await Api.PostJsonAsync(Http, "/v1/chat/completions", $$"""
            {"model":"e2e-chat","messages":[{"role":"user","content":"{{Words(new(1999, 5, 1))}}"}],
             "response_format":{"type":"choice","choices":["1999-05-01","2000-01-01"]},"temperature":0}
            """);
        Assert.True(choiceStatus == HttpStatusCode.OK, $"{choice}");
        Assert.Contains(choice!["choices"]![0]!["message"]!["content"]!.GetValue<string>(),
            (string[])["1999-05-01", "2000-01-01"]);
        var (patternStatus, pattern) = await Api.PostJsonAsync(Http, "/v1/chat/completions", """
            {"model":"e2e-chat","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema",
             "json_schema":{"name":"p","schema":{"type":"string","pattern":"^a"}}}}
            """);
        Assert.Equal((HttpStatusCode.BadRequest, "response_format.json_schema.schema.pattern"),
            (patternStatus, pattern!["error"]!["param"]!.GetValue<string>()));
        // Any JSON object may need '[', which this char vocabulary never saw: refused rather than left to fail.
        var (anyStatus, any) = await Api.PostJsonAsync(Http, "/v1/chat/completions", """
            {"model":"e2e-chat","messages":[{"role":"user","content":"1 May 1999"}],
             "response_format":{"type":"json_object"}}
            """);
        Assert.Equal((HttpStatusCode.BadRequest, "response_format"),
            (anyStatus, any!["error"]!["param"]!.GetValue<string>()));
        Assert.Contains("cannot write the document", any["error"]!["message"]!.GetValue<string>());

        // The command line: one message from stdin, the reply streamed to stdout; then with a schema file.
        var home = Directory.CreateTempSubdirectory("platform-cli-chat-").FullName;
        try
        {
            string[] greedyArgs = ["chat", $"e2e-chat/versions/{version}", "--system", System, "--temperature", "0"];
            var (exit, output, error) = await CliProcess.RunAsync(home, stack.AdminKey, Words(new(2031, 7, 4)),
                greedyArgs);
            Assert.True(exit == 0, error);
            Assert.Equal(text, output.Trim());
            var schemaFile = Path.Combine(home, "date.json");
            await File.WriteAllTextAsync(schemaFile, schema);
            (exit, output, error) = await CliProcess.RunAsync(home, stack.AdminKey, Words(new(2031, 7, 4)) + " as JSON",
                [.. greedyArgs, "--schema", schemaFile]);
            Assert.True(exit == 0, error);
            Assert.Equal(3, JsonNode.Parse(output)!.AsObject().Count);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }

        // The dashboard's chat view, in Chromium: the template shown, a reply streamed, then one under a schema.
        var (playwright, browser) = await DashboardTests.LaunchAsync();
        using (playwright)
        await using (browser)
        {
            var page = await DashboardTests.SignedInPageAsync(browser, stack.AdminKey);
            // An upload of conversations from the dashboard: its format follows the file's extension, its email is
            // redacted, and the table shows the format, the conversations and the redaction's count.
            await page.GotoAsync(new Uri(PlatformStack.GatewayAddress, "/#/datasets").ToString());
            await page.SetInputFilesAsync("#file", new Microsoft.Playwright.FilePayload
            {
                Name = "chats.jsonl",
                MimeType = "application/jsonl",
                Buffer = Encoding.UTF8.GetBytes(Line(new(2000, 1, 1)) + "\n" + Line(new(2001, 2, 2), json: true)
                    + "\n" + Line(new(2002, 3, 3)).Replace(System, "Mail ann@example.com the date.") + "\n"),
            });
            Assert.Equal("chat", await page.InputValueAsync("#ds-format"));
            await page.FillAsync("#ds-name", "browser-chats");
            await page.CheckAsync("input[name=redact][value=email]");
            await page.ClickAsync("#ds-upload");
            await DashboardTests.WaitAsync(page,
                "() => [...document.querySelectorAll('#datasets-table tr')].some(r => " +
                "r.textContent.includes('browser-chats') && r.querySelector('.format').textContent === 'chat (3)' " +
                "&& r.textContent.includes('email 1'))");

            await page.GotoAsync(new Uri(PlatformStack.GatewayAddress, "/#/chat").ToString());
            await page.SelectOptionAsync("#chat-model", $"e2e-chat/versions/{version}");
            await DashboardTests.WaitAsync(page,
                "() => document.querySelector('#chat-template').textContent.includes('<|im_start|>')");
            await page.FillAsync("#chat-system", System);
            await page.FillAsync("#chat-input", Words(new(2031, 7, 4)));
            await page.ClickAsync("#chat-send");
            await DashboardTests.WaitAsync(page, "() => document.querySelector('#chat-transcript').dataset.done === " +
                "'true' && document.querySelectorAll('#chat-transcript .assistant').length === 1");
            Assert.NotEmpty((await page.TextContentAsync("#chat-transcript .assistant"))!);
            await page.FillAsync("#chat-schema", schema);
            await page.FillAsync("#chat-input", Words(new(1999, 5, 1)) + " as JSON");
            await page.ClickAsync("#chat-send");
            await DashboardTests.WaitAsync(page, "() => document.querySelector('#chat-transcript').dataset.done === " +
                "'true' && document.querySelectorAll('#chat-transcript .assistant').length === 2");
            var structuredReply = await page.TextContentAsync("#chat-transcript .assistant:nth-of-type(4)");
            Assert.Equal(3, JsonNode.Parse(structuredReply!)!.AsObject().Count);
            await DashboardTests.ShotAsync(page, "chat");
        }

        // A LoRA fine-tune of the chat version on conversations: the dataset encoded with the base's tokenizer (markers
        // and mask included), the adapters served on the base, the template kept.
        var (loraStatus, lora) = await Api.PostJsonAsync(Http, "/api/runs", $$$"""
            {"datasetId":"{{{datasetId}}}","name":"e2e-chat-lora",
             "initFrom":{"model":"e2e-chat/versions/{{{version}}}"},
             "fineTune":{"method":"lora","rank":4,"alpha":8,"targets":["attn"]},
             "training":{"maxSteps":40,"learningRate":0.001,"warmupSteps":5,"evalInterval":40,"evalIters":2}}
            """);
        Assert.True(loraStatus == HttpStatusCode.Accepted, $"{lora}");
        var loraRun = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/runs/{lora!["id"]}"),
            r => r["state"]!.GetValue<string>() is "Completed" or "Failed" or "Cancelled", Deadline, stack.Logs);
        Assert.True(loraRun["state"]!.GetValue<string>() == "Completed", $"{loraRun}");
        var loraVersion = await Api.GetOkAsync(Http,
            $"/api/models/e2e-chat-lora/versions/{loraRun["modelVersion"]!.GetValue<int>()}");
        Assert.Equal(("lora", registered["chatTemplate"]!.GetValue<string>()),
            (loraVersion["fineTuneMethod"]!.GetValue<string>(), loraVersion["chatTemplate"]!.GetValue<string>()));
        var loraReply = await Api.EventuallyAsync(async () =>
        {
            var (code, body) = await Api.PostJsonAsync(Http, "/v1/chat/completions", $$"""
                {"model":"e2e-chat-lora","messages":[{"role":"user","content":"{{Words(new(2031, 7, 4))}}"}],
                 "temperature":0,"max_completion_tokens":20}
                """);
            return code == HttpStatusCode.OK ? body! : new JsonObject { ["pending"] = (int)code };
        }, b => b["choices"] is not null, TimeSpan.FromSeconds(30), stack.Logs);
        Assert.Equal("stop", loraReply["choices"]![0]!["finish_reason"]!.GetValue<string>());

        // Refusals name the field, in OpenAI's envelope.
        var (roleStatus, role) = await Api.PostJsonAsync(Http, "/v1/chat/completions",
            """{"model":"e2e-chat","messages":[{"role":"tool","content":"x"}]}""");
        Assert.Equal((HttpStatusCode.BadRequest, "messages[0].role"),
            (roleStatus, role!["error"]!["param"]!.GetValue<string>()));
    }
}
