using System.Text;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>
/// Evaluates a parsed template against a context, with jinja2's scoping: a <c>for</c> body gets a
/// fresh frame per iteration (a <c>set</c> inside it is gone after the iteration, hence
/// <c>namespace()</c>), <c>if</c> shares its frame, a macro call gets its own frame over the frame it
/// was defined in. Assignment to anything but a namespace attribute never mutates a value
/// (<c>ImmutableSandboxedEnvironment</c>).
/// </summary>
public sealed class JinjaRenderer
{
    sealed class Frame(Frame? parent)
    {
        public readonly Frame? Parent = parent;
        public readonly Dictionary<string, object?> Vars = new();

        public bool TryGet(string name, out object? value)
        {
            for (var f = this; f is not null; f = f.Parent)
                if (f.Vars.TryGetValue(name, out value)) return true;
            value = null;
            return false;
        }
    }

    enum Flow { Normal, Break, Continue }

    readonly IReadOnlyDictionary<string, object?> globals;
    readonly StringBuilder root = new();
    readonly List<(int Start, int End)> generationSpans = new();
    readonly Func<DateTime> now;

    JinjaRenderer(IReadOnlyDictionary<string, object?> globals, Func<DateTime> now)
    {
        this.globals = globals;
        this.now = now;
    }

    /// <summary>Renders <paramref name="body"/>; <paramref name="generationSpans"/> are the output ranges inside <c>{% generation %}</c>.</summary>
    public static string Render(IReadOnlyList<JinjaNode> body, IReadOnlyDictionary<string, object?> context, Func<DateTime>? now, out IReadOnlyList<(int Start, int End)> generationSpans)
    {
        var renderer = new JinjaRenderer(context, now ?? (() => DateTime.Now));
        renderer.RenderBody(body, renderer.root, new Frame(null));
        generationSpans = renderer.generationSpans;
        return renderer.root.ToString();
    }

    Flow RenderBody(IReadOnlyList<JinjaNode> body, StringBuilder output, Frame frame)
    {
        foreach (var node in body)
        {
            var flow = RenderNode(node, output, frame);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    Flow RenderNode(JinjaNode node, StringBuilder output, Frame frame)
    {
        switch (node)
        {
            case TextNode t:
                output.Append(t.Text);
                return Flow.Normal;
            case OutputNode o:
                output.Append(PyValue.Str(Eval(o.Expr, frame)));
                return Flow.Normal;
            case IfNode i:
                foreach (var (test, branch) in i.Branches)
                    if (PyValue.Truthy(Eval(test, frame))) return RenderBody(branch, output, frame);
                return i.Else is null ? Flow.Normal : RenderBody(i.Else, output, frame);
            case ForNode f:
                RenderFor(f, output, frame);
                return Flow.Normal;
            case SetNode s:
                Assign(s, frame);
                return Flow.Normal;
            case SetBlockNode sb:
            {
                var inner = new StringBuilder();
                RenderBody(sb.Body, inner, frame);
                frame.Vars[sb.Target] = inner.ToString();
                return Flow.Normal;
            }
            case MacroNode m:
                frame.Vars[m.Name] = MakeMacro(m, frame);
                return Flow.Normal;
            case CallBlockNode c:
            {
                var caller = new JinjaCallable("caller", (_, _) =>
                {
                    var inner = new StringBuilder();
                    RenderBody(c.Body, inner, new Frame(frame));
                    return inner.ToString();
                });
                var callee = Eval(c.Call.Callee, frame) as JinjaCallable ?? throw new JinjaException($"line {c.Line}: '{{% call %}}' needs a macro.");
                var (args, kwargs) = EvalArgs(c.Call.Args, c.Call.Kwargs, frame);
                kwargs["caller"] = caller;
                output.Append(PyValue.Str(callee.Invoke(args, kwargs)));
                return Flow.Normal;
            }
            case FilterBlockNode fb:
            {
                var inner = new StringBuilder();
                RenderBody(fb.Body, inner, frame);
                var args = fb.Args.Select(a => Eval(a, frame)).ToList();
                output.Append(PyValue.Str(JinjaFilters.Apply(this, fb.Filter, inner.ToString(), args, new(), fb.Line)));
                return Flow.Normal;
            }
            case GenerationNode g:
            {
                int start = output.Length;
                var flow = RenderBody(g.Body, output, frame);
                if (ReferenceEquals(output, root) && output.Length > start) generationSpans.Add((start, output.Length));
                return flow;
            }
            case BreakNode: return Flow.Break;
            case ContinueNode: return Flow.Continue;
            default: throw new JinjaException($"line {node.Line}: cannot render {node.GetType().Name}.");
        }
    }

    void RenderFor(ForNode f, StringBuilder output, Frame frame)
    {
        var source = PyValue.Iterate(Eval(f.Iterable, frame), f.Line);
        IReadOnlyList<object?> items = source;
        if (f.Filter is not null)
        {
            var kept = new List<object?>();
            foreach (var item in source)
            {
                var probe = new Frame(frame);
                Bind(f, item, probe);
                if (PyValue.Truthy(Eval(f.Filter, probe))) kept.Add(item);
            }
            items = kept;
        }
        if (items.Count == 0)
        {
            if (f.Else is not null) RenderBody(f.Else, output, frame);
            return;
        }
        var loop = new JinjaLoop(items);
        for (int i = 0; i < items.Count; i++)
        {
            loop.Index0 = i;
            var iteration = new Frame(frame);
            Bind(f, items[i], iteration);
            iteration.Vars["loop"] = loop;
            if (RenderBody(f.Body, output, iteration) == Flow.Break) break;
        }
    }

    static void Bind(ForNode f, object? item, Frame frame)
    {
        if (f.Targets.Count == 1) { frame.Vars[f.Targets[0]] = item; return; }
        var parts = PyValue.Iterate(item, f.Line);
        if (parts.Count != f.Targets.Count)
            throw new JinjaException($"line {f.Line}: cannot unpack {parts.Count} values into {f.Targets.Count} loop variables.");
        for (int k = 0; k < parts.Count; k++) frame.Vars[f.Targets[k]] = parts[k];
    }

    void Assign(SetNode s, Frame frame)
    {
        var value = Eval(s.Value, frame);
        if (s.Attribute is not null)
        {
            var target = Lookup(s.Targets[0], frame, s.Line);
            if (target is not JinjaNamespace ns)
                throw new JinjaException($"line {s.Line}: cannot assign attribute '{s.Attribute}' on {PyValue.TypeName(target)} '{s.Targets[0]}' (only a namespace() accepts attribute assignment).");
            ns.Values[s.Attribute] = value;
            return;
        }
        if (s.Targets.Count == 1) { frame.Vars[s.Targets[0]] = value; return; }
        var parts = PyValue.Iterate(value, s.Line);
        if (parts.Count != s.Targets.Count)
            throw new JinjaException($"line {s.Line}: cannot unpack {parts.Count} values into {s.Targets.Count} names.");
        for (int k = 0; k < parts.Count; k++) frame.Vars[s.Targets[k]] = parts[k];
    }

    JinjaCallable MakeMacro(MacroNode m, Frame definedIn) => new(m.Name, (args, kwargs) =>
    {
        var frame = new Frame(definedIn);
        frame.Vars[m.Name] = definedIn.Vars.GetValueOrDefault(m.Name);
        if (args.Count > m.Parameters.Count)
            throw new JinjaException($"line {m.Line}: macro '{m.Name}' takes {m.Parameters.Count} arguments, {args.Count} given.");
        for (int i = 0; i < m.Parameters.Count; i++)
        {
            var name = m.Parameters[i];
            if (i < args.Count) frame.Vars[name] = args[i];
            else if (kwargs.TryGetValue(name, out var v)) frame.Vars[name] = v;
            else frame.Vars[name] = m.Defaults[i] is { } d ? Eval(d, frame) : new JinjaUndefined(name);
        }
        if (kwargs.TryGetValue("caller", out var caller)) frame.Vars["caller"] = caller;
        var output = new StringBuilder();
        RenderBody(m.Body, output, frame);
        return output.ToString();
    });

    object? Lookup(string name, Frame frame, int line)
    {
        if (frame.TryGet(name, out var value)) return value;
        if (globals.TryGetValue(name, out value)) return value;
        return JinjaGlobals.TryGet(name, now, out value) ? value : new JinjaUndefined(name);
    }

    object? Eval(JinjaExpr expr, Frame frame) => expr switch
    {
        ConstExpr c => c.Value,
        NameExpr n => Lookup(n.Name, frame, n.Line),
        AttrExpr a => JinjaAccess.GetAttr(Eval(a.Target, frame), a.Name, a.Line),
        ItemExpr i => JinjaAccess.GetItem(Eval(i.Target, frame), Eval(i.Key, frame), i.Line),
        SliceExpr s => JinjaAccess.Slice(Eval(s.Target, frame), EvalOpt(s.Start, frame), EvalOpt(s.Stop, frame), EvalOpt(s.Step, frame), s.Line),
        JinjaCallExpr c => EvalCall(c, frame),
        FilterExpr f => EvalFilter(f, frame),
        TestExpr t => JinjaTestFunctions.Apply(this, t.Name, Eval(t.Target, frame), t.Args.Select(a => Eval(a, frame)).ToList(), t.Line) != t.Negated,
        UnaryExpr u => EvalUnary(u, frame),
        BinaryExpr b => EvalBinary(b, frame),
        CompareExpr c => EvalCompare(c, frame),
        CondExpr c => PyValue.Truthy(Eval(c.Test, frame)) ? Eval(c.Then, frame) : c.Else is null ? new JinjaUndefined("else") : Eval(c.Else, frame),
        ListExpr l => l.IsTuple ? l.Items.Select(x => Eval(x, frame)).ToArray() : l.Items.Select(x => Eval(x, frame)).ToList(),
        DictExpr d => EvalDict(d, frame),
        _ => throw new JinjaException($"line {expr.Line}: cannot evaluate {expr.GetType().Name}."),
    };

    object? EvalOpt(JinjaExpr? e, Frame frame) => e is null ? null : Eval(e, frame);

    Dictionary<string, object?> EvalDict(DictExpr d, Frame frame)
    {
        var dict = new Dictionary<string, object?>();
        foreach (var (k, v) in d.Items) dict[PyValue.Str(Eval(k, frame))] = Eval(v, frame);
        return dict;
    }

    (List<object?>, Dictionary<string, object?>) EvalArgs(IReadOnlyList<JinjaExpr> args, IReadOnlyList<(string Name, JinjaExpr Value)> kwargs, Frame frame)
    {
        var a = new List<object?>(args.Count);
        foreach (var x in args) a.Add(Eval(x, frame));
        var k = new Dictionary<string, object?>();
        foreach (var (name, value) in kwargs) k[name] = Eval(value, frame);
        return (a, k);
    }

    object? EvalCall(JinjaCallExpr c, Frame frame)
    {
        var callee = Eval(c.Callee, frame);
        var (args, kwargs) = EvalArgs(c.Args, c.Kwargs, frame);
        return callee switch
        {
            JinjaCallable f => f.Invoke(args, kwargs),
            JinjaUndefined u => throw new JinjaException($"line {c.Line}: '{u.Name}' is undefined and cannot be called."),
            _ => throw new JinjaException($"line {c.Line}: '{PyValue.TypeName(callee)}' object is not callable."),
        };
    }

    object? EvalFilter(FilterExpr f, Frame frame)
    {
        var value = Eval(f.Target, frame);
        var (args, kwargs) = EvalArgs(f.Args, f.Kwargs, frame);
        return JinjaFilters.Apply(this, f.Name, value, args, kwargs, f.Line);
    }

    object? EvalUnary(UnaryExpr u, Frame frame)
    {
        var v = Eval(u.Operand, frame);
        return u.Op switch
        {
            "not" => !PyValue.Truthy(v),
            "-" => v switch
            {
                long l => (object)(-l),
                double d => -d,
                bool b => b ? -1L : 0L,
                _ => throw new JinjaException($"line {u.Line}: bad operand type for unary -: '{PyValue.TypeName(v)}'."),
            },
            _ => PyValue.IsNumber(v) ? v : throw new JinjaException($"line {u.Line}: bad operand type for unary +: '{PyValue.TypeName(v)}'."),
        };
    }

    object? EvalBinary(BinaryExpr b, Frame frame)
    {
        var left = Eval(b.Left, frame);
        switch (b.Op)
        {
            case "and": return PyValue.Truthy(left) ? Eval(b.Right, frame) : left;
            case "or": return PyValue.Truthy(left) ? left : Eval(b.Right, frame);
        }
        var right = Eval(b.Right, frame);
        return b.Op == "~" ? PyValue.Str(left) + PyValue.Str(right) : PyArithmetic.Apply(b.Op, left, right, b.Line);
    }

    bool EvalCompare(CompareExpr c, Frame frame)
    {
        var left = Eval(c.First, frame);
        foreach (var (op, operand) in c.Rest)
        {
            var right = Eval(operand, frame);
            bool ok = op switch
            {
                "==" => PyValue.Equal(left, right),
                "!=" => !PyValue.Equal(left, right),
                "<" => PyValue.Compare(left, right, c.Line) < 0,
                "<=" => PyValue.Compare(left, right, c.Line) <= 0,
                ">" => PyValue.Compare(left, right, c.Line) > 0,
                ">=" => PyValue.Compare(left, right, c.Line) >= 0,
                "in" => PyValue.Contains(right, left, c.Line),
                _ => !PyValue.Contains(right, left, c.Line),
            };
            if (!ok) return false;
            left = right;
        }
        return true;
    }

    /// <summary>Calls a filter by name on a value (for <c>map('upper')</c>).</summary>
    internal object? CallFilter(string name, object? value, List<object?> args, int line) => JinjaFilters.Apply(this, name, value, args, new(), line);

    internal bool CallTest(string name, object? value, List<object?> args, int line) => JinjaTestFunctions.Apply(this, name, value, args, line);
}
