namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>The <c>loop</c> variable of a <c>for</c> body (jinja2's <c>LoopContext</c>).</summary>
public sealed class JinjaLoop(IReadOnlyList<object?> items)
{
    public int Index0 { get; set; }

    public object? Get(string name, int line) => name switch
    {
        "index0" => (long)Index0,
        "index" => (long)Index0 + 1,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : new JinjaUndefined("loop.previtem"),
        "nextitem" => Index0 + 1 < items.Count ? items[Index0 + 1] : new JinjaUndefined("loop.nextitem"),
        "cycle" => new JinjaCallable("loop.cycle", (args, _) =>
            args.Count == 0 ? throw new JinjaException($"line {line}: loop.cycle() needs at least one value.") : args[Index0 % args.Count]),
        _ => new JinjaUndefined("loop." + name),
    };
}
