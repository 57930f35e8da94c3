using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Tests.Python;

/// <summary>A reward file that cannot load is a spec error naming the file, the line and the error, before any job starts.</summary>
public sealed class PythonLoadErrorTests
{
    static SpecException Fails(string source, string extra = "") => Assert.Throws<SpecException>(() => Py.Create(source, extra));

    [Fact]
    public void A_syntax_error_names_the_file_and_its_line()
    {
        var e = Fails("def evaluate(completion):\n    x = 1\n    return (x +\n\n");
        Assert.StartsWith("evaluator.path: reward.py:3: SyntaxError", e.Message);
    }

    [Fact]
    public void A_missing_import_names_the_module_and_the_line_of_the_import()
    {
        var e = Fails("import os\nimport no_such_module_here\ndef evaluate(completion):\n    return 1\n");
        Assert.Contains("reward.py:2: ModuleNotFoundError: No module named 'no_such_module_here'", e.Message);
    }

    [Fact]
    public void A_missing_function_lists_the_functions_the_file_defines()
    {
        var e = Fails("def score(completion):\n    return 1\n", "\"function\": \"evaluate\"");
        Assert.Contains("no function 'evaluate' (functions defined: score)", e.Message);
    }

    [Fact]
    public void A_required_parameter_the_evaluator_does_not_pass_is_refused()
    {
        var e = Fails("def evaluate(completion, answer_key):\n    return 1\n");
        Assert.Contains("reward.py:1: evaluate() requires 'answer_key'", e.Message);
    }

    [Fact]
    public void Requirements_check_false_only_compiles_so_an_import_missing_here_is_accepted_but_a_syntax_error_is_not()
    {
        using var ok = Py.Create("import no_such_module_here\ndef evaluate(completion):\n    return 1\n", "\"requirements_check\": false");
        var e = Fails("def evaluate(completion)\n    return 1\n", "\"requirements_check\": false");
        Assert.StartsWith("evaluator.path: reward.py:1: SyntaxError", e.Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse("""{"type":"python","path":"nope.py"}""")!.AsObject(), "evaluator", Path.GetTempPath()));
        Assert.Contains("evaluator.path", e.Message);
        Assert.Contains("nope.py' does not exist", e.Message);
    }

    [Fact]
    public async Task Rft_submit_form_carries_the_source_so_a_silo_without_the_folder_runs_it_and_names_it_in_errors()
    {
        var dir = Py.Write("def evaluate(completion):\n    if completion == 'x': raise KeyError('k')\n    return 0.5\n", "my_reward.py");
        var spec = JsonNode.Parse("""{"type":"python","path":"my_reward.py"}""")!.AsObject();
        var inlined = EvaluatorFactory.WithFilesInlined(spec, "evaluator", dir);
        Directory.Delete(dir, recursive: true);
        using var e = (IDisposable)EvaluatorFactory.Create(inlined, "evaluator", baseDirectory: null);
        Assert.Equal(0.5, (await ((IEvaluator)e).Score("y")).Score);
        Assert.Equal("my_reward.py: KeyError: 'k'", (await ((IEvaluator)e).Score("x")).Reason);
    }

    [Fact]
    public void A_silo_that_may_not_read_its_disk_refuses_a_bare_path()
    {
        var e = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse("""{"type":"python","path":"reward.py"}""")!.AsObject(), "evaluator", null));
        Assert.Contains("rft submit", e.Message);
    }
}
