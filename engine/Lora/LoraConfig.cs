namespace Orleans.Rft.Engine.Lora;

/// <summary>LoRA hyper-parameters, named as PEFT's <c>LoraConfig</c>.</summary>
public sealed record LoraConfig(int Rank = 8, double Alpha = 16, double Dropout = 0.0, IReadOnlyList<string>? TargetModules = null)
{
    public static readonly IReadOnlyList<string> AllProjections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public IReadOnlyList<string> Targets => TargetModules ?? AllProjections;

    public void Validate()
    {
        if (Rank < 1) throw new ArgumentException($"lora rank must be ≥ 1 (got {Rank}).");
        if (Alpha <= 0) throw new ArgumentException($"lora alpha must be > 0 (got {Alpha}).");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"lora dropout must be in [0, 1) (got {Dropout}).");
        foreach (var t in Targets)
            if (!AllProjections.Contains(t))
                throw new ArgumentException($"lora target module '{t}' is not a projection of this model; choose from {string.Join(", ", AllProjections)}.");
    }
}
