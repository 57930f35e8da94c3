using Orleans.Rft.Engine.Models;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Lora;

/// <summary>
/// Which rows of one forward use which adapter: rows of a group get <c>(x[rows] Aᵀ) Bᵀ · α/r</c>
/// added to their base projection (gathered with index_select, added back with index_add_); rows in
/// no group get the base alone. A group that covers the whole batch adds its delta to every row
/// directly, the math of an attached adapter. Built per forward on the device thread; disposing
/// frees the row indices (never the adapters).
/// </summary>
public sealed class LoraRouting : IDisposable
{
    public sealed record Group(LoraWeights Adapter, Tensor Rows, bool AllRows);

    LoraRouting(IReadOnlyList<Group> groups) => Groups = groups;

    public IReadOnlyList<Group> Groups { get; }

    /// <summary>Groups of <paramref name="adapters"/>[row] (null = base); <paramref name="device"/> holds the indices.</summary>
    public static LoraRouting For(IReadOnlyList<LoraWeights?> adapters, Device device)
    {
        var groups = new List<Group>();
        foreach (var g in adapters.Select((a, row) => (a, row)).Where(x => x.a is not null).GroupBy(x => x.a!))
        {
            var rows = g.Select(x => (long)x.row).ToArray();
            groups.Add(new Group(g.Key, tensor(rows, device: device).DetachFromDisposeScope(), rows.Length == adapters.Count));
        }
        return new LoraRouting(groups);
    }

    /// <summary>Routes every projection of <paramref name="network"/> by <paramref name="routing"/> until cleared (null).</summary>
    public static void Install(CausalLM network, LoraRouting? routing)
    {
        foreach (var (path, layer) in network.Projections()) layer.Route(routing, path);
    }

    public void Dispose()
    {
        foreach (var g in Groups) g.Rows.Dispose();
    }
}
