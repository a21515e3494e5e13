using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Training.Registry.Data;

namespace Training.Registry;

/// <summary>
/// The model card (README.md, with the Hub's YAML front matter): what the model is, what it was trained on and how,
/// its evaluation and cost, what it is for, and what it cannot be trusted with, in English and Chinese.
/// </summary>
public static class ModelCard
{
    private static readonly JsonSerializerOptions IndentedWeb = new(JsonSerializerOptions.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private static string I(FormattableString text) => FormattableString.Invariant(text);

    public static string Write(ModelVersion v, IReadOnlyList<string> aliases, JsonObject config, string tokenizerKind)
    {
        static string N(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
        static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
        var card = new StringBuilder();
        card.AppendLine("---");
        card.AppendLine("library_name: transformers");
        card.AppendLine("pipeline_tag: text-generation");
        card.AppendLine("tags:");
        foreach (var tag in new[] { "gpt2", "corpus-to-model-platform" }.Concat(v.Tags))
            card.AppendLine(CultureInfo.InvariantCulture, $"- {JsonSerializer.Serialize(tag)}");
        card.AppendLine("---");
        card.AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"# {v.Name} v{v.Version}");
        card.AppendLine();
        if (!string.IsNullOrWhiteSpace(v.Description))
            card.AppendLine(v.Description.Trim()).AppendLine();
        var owner = v.OwnerName ?? "an unknown owner";
        var aliasList = aliases.Count > 0 ? $"; aliases: {string.Join(", ", aliases)}." : ".";
        card.AppendLine(I($"Registered {v.CreatedAt:yyyy-MM-dd} by {owner}{aliasList}"));
        card.AppendLine();

        card.AppendLine("## Model");
        card.AppendLine();
        card.AppendLine(I($"A decoder-only Transformer in GPT-2's layout: {config["n_layer"]} layers, ") +
                        I($"{config["n_head"]} heads, {config["n_embd"]} wide, {config["n_positions"]} positions, ") +
                        I($"a vocabulary of {config["vocab_size"]} ({tokenizerKind} tokenizer), activation ") +
                        I($"`{config["activation_function"]}`."));
        if (v.BaseModel is not null)
            card.AppendLine().AppendLine(I($"Fine-tuned ({v.FineTuneMethod ?? "full"}) from `{v.BaseModel}`; ") +
                                         "a LoRA version is exported with its adapters merged into the base.");
        if (v.ImportedFrom is not null)
            card.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"Imported from a `{v.ImportedFrom}` weights file, not trained here.");
        card.AppendLine();

        card.AppendLine("## Training data");
        card.AppendLine();
        if (v.Provenance is { } p)
        {
            card.Append(CultureInfo.InvariantCulture, $"The dataset **{p.DatasetName}** (`{v.DatasetId}`)");
            card.Append(p.TrainTokens is { } train ? $": {Count(train)} training tokens" : "");
            card.Append(p.ValidationTokens is { } held
                ? $", {Count(held)} held-out tokens ({Count(p.ValidationBytes ?? 0)} bytes)"
                : "");
            card.AppendLine(".");
        }
        else
            card.AppendLine(CultureInfo.InvariantCulture,
                $"The dataset `{v.DatasetId}`; its name and size were not recorded with this version.");
        card.AppendLine();

        card.AppendLine("## Training");
        card.AppendLine();
        card.AppendLine("Cross-entropy on the next token, AdamW. The run's spec:");
        card.AppendLine();
        card.AppendLine("```json");
        card.AppendLine(v.Provenance is { } withSpec
            ? JsonSerializer.Serialize(withSpec.Spec, IndentedWeb)
            : "{}");
        card.AppendLine("```");
        card.AppendLine();
        if (v.ValidationLoss is { } validation)
            card.AppendLine(CultureInfo.InvariantCulture, $"Validation loss at registration: {N(validation)}.")
                .AppendLine();

        card.AppendLine("## Evaluation");
        card.AppendLine();
        if (v.Evaluation is { Metrics.Count: > 0 } figures)
        {
            card.AppendLine("On the dataset's held-out split:");
            card.AppendLine();
            card.AppendLine("| Metric | Value |");
            card.AppendLine("|---|---|");
            foreach (var (name, value) in figures.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
                card.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {N(value)} |");
            foreach (var (name, note) in figures.Notes.OrderBy(m => m.Key, StringComparer.Ordinal))
                card.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {note} |");
        }
        else
            card.AppendLine("Not evaluated.");
        card.AppendLine();

        card.AppendLine("## Cost");
        card.AppendLine();
        card.AppendLine(v.Cost is { } c
            ? $"{N(c.WallSeconds)} s of wall time, {N(c.CpuSeconds)} CPU-seconds, {N(c.GpuSeconds)} GPU-seconds, " +
              $"{Count(c.Tokens)} tokens, {c.Flops.ToString("0.##E+0", CultureInfo.InvariantCulture)} FLOPs: " +
              $"{c.Price.ToString(CultureInfo.InvariantCulture)} {c.Currency} at the platform's configured rates."
            : "Not recorded.");
        card.AppendLine();

        card.AppendLine("## Intended use");
        card.AppendLine();
        card.AppendLine("Generating text in the style of its training data, and studying how a small language model " +
                        "learns from one corpus. It is not a source of facts, advice or decisions about people.");
        card.AppendLine();
        card.AppendLine("## Limitations and bias");
        card.AppendLine();
        card.AppendLine("- It is a small model trained on one corpus: it continues text the way that corpus does, " +
                        "and it repeats the corpus's views, stereotypes and errors. It invents, and states what it " +
                        "invents as confidently as what it learned.");
        card.AppendLine("- It can reproduce passages of its training text. Text with personal data should have been " +
                        "redacted at upload; whatever was not may come back out.");
        card.AppendLine("- Explainability: its predictions are not self-explaining. The platform's `/api/explain` " +
                        "gives each generated token's probability, its alternatives and each prompt token's share of " +
                        "the decision; use it before trusting an output.");
        card.AppendLine("- The evaluation above is on held-out text from the same corpus; on other text it will do " +
                        "worse.");
        card.AppendLine();
        card.AppendLine("## 用途与局限");
        card.AppendLine();
        card.AppendLine("- 用途：生成与训练语料风格相近的文本，研究小型语言模型如何从单一语料中学习。" +
                        "不可作为事实、建议或对人的判断依据。");
        card.AppendLine("- 偏差：模型只学过一份语料，会重复其中的观点、刻板印象和错误，" +
                        "并会一本正经地编造内容。");
        card.AppendLine("- 隐私：模型可能复现训练文本的片段；含个人信息的文本应在上传时脱敏。");
        card.AppendLine("- 可解释性：请用平台的 `/api/explain` 查看每个生成词元的概率、候选词及提示词元的贡献，" +
                        "再决定是否采信。");
        card.AppendLine();
        card.AppendLine("## Loading");
        card.AppendLine();
        card.AppendLine("```python");
        card.AppendLine("from transformers import AutoModelForCausalLM, AutoTokenizer");
        var folder = $"{v.Name}-v{v.Version}";
        card.AppendLine(CultureInfo.InvariantCulture, $"model = AutoModelForCausalLM.from_pretrained(\"{folder}\")");
        card.AppendLine(CultureInfo.InvariantCulture, $"tokenizer = AutoTokenizer.from_pretrained(\"{folder}\")");
        card.AppendLine("```");
        return card.ToString();
    }
}
