using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.EndToEnd.Tests;

[Collection(PlatformCollection.Name)]
public sealed class TokenizerTests(PlatformStack stack)
{
    private HttpClient Http => stack.Gateway;

    [Fact]
    public async Task A_dataset_gets_a_byte_level_BPE_tokenizer_that_encodes_and_decodes_through_the_gateway()
    {
        var (status, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..200_000]),
            "bpe-slice",
            tokenizer: "{\"kind\":\"bpe\",\"vocabSize\":512}");
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status}: {dataset}");
        var id = dataset!["id"]!.GetValue<string>();
        dataset = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{id}"),
            d => d["state"]!.GetValue<string>() is "Tokenized" or "Failed", TimeSpan.FromMinutes(2), stack.Logs);
        Assert.Equal("Tokenized", dataset["state"]!.GetValue<string>());

        var tokenizerId = dataset["tokenizer"]!["id"]!.GetValue<string>();
        var tokenizer = await Api.GetOkAsync(Http, $"/api/tokenizers/{tokenizerId}");
        Assert.Equal("bpe", tokenizer["kind"]!.GetValue<string>());
        Assert.Equal(512, tokenizer["vocabSize"]!.GetValue<int>());
        Assert.Equal("uint16", tokenizer["tokenDType"]!.GetValue<string>());
        Assert.InRange(tokenizer["validationTokensPerByte"]!.GetValue<double>(), 0.2, 0.7);

        var file = await Api.GetOkAsync(Http, $"/api/tokenizers/{tokenizerId}/file");
        Assert.Equal("BPE", file["model"]!["type"]!.GetValue<string>());
        Assert.Equal("ByteLevel", file["pre_tokenizer"]!["type"]!.GetValue<string>());
        Assert.Equal("<|endoftext|>", file["added_tokens"]![0]!["content"]!.GetValue<string>());

        const string text = "ROMEO: But soft, what light through yonder window breaks? 🙂 漢字";
        var (encodeStatus, encoded) = await Api.PostJsonAsync(Http, $"/api/tokenizers/{tokenizerId}/encode",
            new JsonObject { ["text"] = text }.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, encodeStatus);
        var ids = encoded!["ids"]!.AsArray();
        Assert.InRange(ids.Count, 10, Encoding.UTF8.GetByteCount(text) - 1);
        var (decodeStatus, decoded) = await Api.PostJsonAsync(Http, $"/api/tokenizers/{tokenizerId}/decode",
            new JsonObject { ["ids"] = ids.DeepClone() }.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, decodeStatus);
        Assert.Equal(text, decoded!["text"]!.GetValue<string>());

        var (badStatus, bad) = await Api.PostJsonAsync(Http, $"/api/tokenizers/{tokenizerId}/decode",
            "{\"ids\":[1,999999]}");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.NotNull(bad!["errors"]!["ids"]);

        // That tokenizer.json, uploaded with another corpus, is used as it is instead of training a new one.
        var fileBytes = await Http.GetByteArrayAsync($"/api/tokenizers/{tokenizerId}/file");
        var (reuseStatus, reused) = await Api.UploadAsync(Http,
            Encoding.UTF8.GetBytes(Api.DemoCorpus[300_000..340_000]), "bpe-reuse", tokenizerFile: fileBytes);
        Assert.True(reuseStatus == HttpStatusCode.Accepted, $"{(int)reuseStatus}: {reused}");
        var reusedId = reused!["id"]!.GetValue<string>();
        reused = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{reusedId}"),
            d => d["state"]!.GetValue<string>() is "Tokenized" or "Failed", TimeSpan.FromMinutes(2), stack.Logs);
        Assert.Equal("Tokenized", reused["state"]!.GetValue<string>());
        var reusedTokenizer = reused["tokenizer"]!["id"]!.GetValue<string>();
        Assert.NotEqual(tokenizerId, reusedTokenizer);
        var (_, again) = await Api.PostJsonAsync(Http, $"/api/tokenizers/{reusedTokenizer}/encode",
            new JsonObject { ["text"] = text }.ToJsonString());
        Assert.Equal(ids.Select(i => i!.GetValue<int>()), again!["ids"]!.AsArray().Select(i => i!.GetValue<int>()));
    }

    [Fact]
    public async Task A_dataset_can_get_a_BERT_WordPiece_tokenizer()
    {
        var (_, dataset) = await Api.UploadAsync(Http, Encoding.UTF8.GetBytes(Api.DemoCorpus[..100_000]),
            "wordpiece-slice",
            tokenizer: "{\"kind\":\"wordpiece\",\"vocabSize\":1000}");
        var id = dataset!["id"]!.GetValue<string>();
        dataset = await Api.EventuallyAsync(() => Api.GetOkAsync(Http, $"/api/datasets/{id}"),
            d => d["state"]!.GetValue<string>() is "Tokenized" or "Failed", TimeSpan.FromMinutes(2), stack.Logs);
        Assert.True(dataset["state"]!.GetValue<string>() == "Tokenized", dataset.ToJsonString());
        var tokenizerId = dataset["tokenizer"]!["id"]!.GetValue<string>();
        var file = await Api.GetOkAsync(Http, $"/api/tokenizers/{tokenizerId}/file");
        Assert.Equal("WordPiece", file["model"]!["type"]!.GetValue<string>());
        Assert.Equal("##", file["model"]!["continuing_subword_prefix"]!.GetValue<string>());
        var (_, encoded) = await Api.PostJsonAsync(Http, $"/api/tokenizers/{tokenizerId}/encode",
            "{\"text\":\"First Citizen: Speak, speak.\"}");
        var (_, decoded) = await Api.PostJsonAsync(Http, $"/api/tokenizers/{tokenizerId}/decode",
            new JsonObject { ["ids"] = encoded!["ids"]!.DeepClone() }.ToJsonString());
        // Hugging Face's WordPiece decoder with clean-up: " ," and " ." close up, " :" does not.
        Assert.Equal("first citizen : speak, speak.", decoded!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tokenizer_settings_outside_the_limits_are_named()
    {
        var (status, body) = await Api.UploadAsync(Http, "some text\n"u8.ToArray(), "bad-tokenizer",
            tokenizer: "{\"kind\":\"bpe\",\"vocabSize\":100}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body!["errors"]!["tokenizer.vocabSize"]);
        (status, body) = await Api.UploadAsync(Http, "some text\n"u8.ToArray(), "bad-tokenizer",
            tokenizer: "wordsmith");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body!["errors"]!["tokenizer.kind"]);
        (status, body) = await Api.UploadAsync(Http, "some text\n"u8.ToArray(), "bad-tokenizer",
            tokenizerFile: "{\"model\":{\"type\":\"Unigram\"}}"u8.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("BPE", body!["errors"]!["tokenizerFile"]![0]!.GetValue<string>());
    }
}
