namespace Orleans.Rft.Engine.Training;

/// <summary>AdamW hyper-parameters (Loshchilov &amp; Hutter 2019), PyTorch's defaults.</summary>
public sealed record AdamWOptions(double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, double WeightDecay = 0.0);
