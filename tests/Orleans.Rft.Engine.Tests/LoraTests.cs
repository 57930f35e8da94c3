using Orleans.Rft.Engine.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

public sealed class LoraTests
{
    static readonly Tensor Input = tensor(new long[] { 3, 14, 15, 92, 65, 35, 89, 79 }).unsqueeze(0);

    [Fact]
    public void A_fresh_adapter_gives_exactly_the_base_outputs()
    {
        using var model = TestModels.Micro();
        using var _ = no_grad();
        var before = model.Network.Forward(Input);
        model.AttachLora(new LoraConfig(Rank: 4, Alpha: 8));
        var after = model.Network.Forward(Input);
        Assert.True(before.eq(after).all().ToBoolean(), "B = 0 must leave every logit bit-identical");
    }

    [Fact]
    public void An_adapter_switched_off_gives_exactly_the_base_outputs()
    {
        using var model = TestModels.Micro();
        using var _ = no_grad();
        var baseLogits = model.Network.Forward(Input);
        model.AttachLora(new LoraConfig(Rank: 4, Alpha: 8));
        foreach (var (_, p) in model.LoraParameters()) p.normal_(0, 0.5);
        var adapted = model.Network.Forward(Input);
        Assert.False(baseLogits.allclose(adapted), "a trained adapter must change the outputs");
        model.Network.SetAdapterEnabled(false);
        Assert.True(baseLogits.eq(model.Network.Forward(Input)).all().ToBoolean());
        model.Network.SetAdapterEnabled(true);
        Assert.True(adapted.eq(model.Network.Forward(Input)).all().ToBoolean());
    }

    [Fact]
    public void Without_autograd_the_adapter_delta_accumulates_in_place_and_equals_the_autograd_path()
    {
        // Decoding adds α/r · (x Aᵀ) Bᵀ into the base output with one addmm_; training writes the delta
        // apart. Both are the same function of the weights: outputs agree to float32 rounding, for 2-D
        // and 3-D inputs and with a bias.
        manual_seed(5);
        var layer = new LoraLinear(24, 40, hasBias: true, ScalarType.Float32, CPU);
        using (no_grad()) { layer.Weight.normal_(); layer.Bias!.normal_(); }
        layer.AttachAdapter(rank: 4, alpha: 12, dropoutRate: 0);
        using (no_grad()) layer.LoraB!.normal_();
        layer.eval();
        foreach (var x in new[] { randn(7, 24), randn(3, 5, 24) })
        {
            var withGrad = layer.forward(x);
            Assert.True(withGrad.requires_grad);
            Tensor inPlace;
            using (no_grad()) inPlace = layer.forward(x);
            Tensor reference;
            using (no_grad()) reference = nn.functional.linear(x, layer.Weight, layer.Bias) + 3.0 * x.matmul(layer.LoraA!.t()).matmul(layer.LoraB!.t());
            Assert.Equal(withGrad.shape, inPlace.shape);
            Assert.True(inPlace.allclose(withGrad.detach(), rtol: 1e-5, atol: 1e-4), $"max diff {(inPlace - withGrad.detach()).abs().max().ToSingle()}");
            Assert.True(inPlace.allclose(reference, rtol: 1e-5, atol: 1e-4));
            Assert.False(inPlace.allclose(nn.functional.linear(x, layer.Weight, layer.Bias).detach(), rtol: 1e-3, atol: 1e-3), "the delta was not added");
        }
    }

    [Fact]
    public void Only_lora_parameters_require_gradients()
    {
        using var model = TestModels.Micro();
        model.AttachLora(new LoraConfig(Rank: 2, TargetModules: ["q_proj", "v_proj"]));
        var trainable = model.Network.parameters().Where(p => p.requires_grad).Count();
        Assert.Equal(2 * 2 * model.Config.NumHiddenLayers, trainable); // A and B on two projections per layer
        Assert.All(model.LoraParameters(), p => Assert.Matches(@"\.(q_proj|v_proj)\.lora_[AB]$", p.Name));
    }

    [Fact]
    public void Lora_gradients_match_central_finite_differences_in_float64()
    {
        manual_seed(11);
        var layer = new LoraLinear(5, 4, hasBias: true, ScalarType.Float64, CPU);
        using (no_grad()) { layer.Weight.normal_(); layer.Bias!.normal_(); }
        layer.AttachAdapter(rank: 3, alpha: 6, dropoutRate: 0);
        using (no_grad()) layer.LoraB!.normal_();
        var x = randn(new long[] { 2, 5 }, ScalarType.Float64);
        Func<Tensor> loss = () => layer.forward(x).sin().sum();
        loss().backward();
        foreach (var p in new[] { layer.LoraA!, layer.LoraB! })
        {
            var analytic = p.grad!.clone();
            var flat = p.detach().view(-1);
            const double h = 1e-6;
            for (int i = 0; i < flat.shape[0]; i++)
            {
                double numeric;
                using (no_grad())
                {
                    var orig = flat[i].ToDouble();
                    flat[i] = orig + h; var up = loss().ToDouble();
                    flat[i] = orig - h; var down = loss().ToDouble();
                    flat[i] = orig;
                    numeric = (up - down) / (2 * h);
                }
                Assert.True(Math.Abs(numeric - analytic.view(-1)[i].ToDouble()) < 1e-7, $"element {i}: numeric {numeric} vs analytic {analytic.view(-1)[i].ToDouble()}");
            }
        }
    }
}
