using static TorchSharp.torch;

namespace Platform.ML;

/// <summary>
/// What the trainer sees of a LoRA fine-tune: the base GPT, frozen, with the adapter attached to it. Only the adapter's
/// parameters need gradients, so the optimiser, clipping and AdamW's moments cover the adapter alone; train() and
/// eval() reach both, so the base's dropout follows the mode too.
/// </summary>
public sealed class LoraGpt : nn.Module
{
    private readonly Gpt gpt;
    private readonly LoraAdapter lora;

    public LoraGpt(Gpt model, LoraAdapter adapter) : base(nameof(LoraGpt))
    {
        (gpt, lora) = (model, adapter);
        foreach (var parameter in model.parameters())
            parameter.requires_grad_(false);
        model.Adapter = adapter;
        RegisterComponents();
    }

    public Gpt Base => gpt;
    public LoraAdapter Adapter => lora;
}
