using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Tests;

public sealed class EvaluatorFilesInlinedTests
{
    [Fact]
    public async Task A_schema_file_is_read_into_the_spec_also_inside_multi_and_scores_the_same_without_the_folder()
    {
        var dir = Directory.CreateTempSubdirectory("rft-eval-inline").FullName;
        File.WriteAllText(Path.Combine(dir, "person.json"), """{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}""");
        var spec = JsonNode.Parse("""
            {"type":"multi","weights":{"shape":1},
             "evaluators":{"shape":{"type":"json_schema","schema":"person.json"}}}
            """)!.AsObject();

        var inlined = EvaluatorFactory.WithFilesInlined(spec, "evaluator", dir);
        Directory.Delete(dir, recursive: true);

        Assert.IsType<JsonObject>(inlined["evaluators"]!["shape"]!["schema"]);
        Assert.Equal("person.json", spec["evaluators"]!["shape"]!["schema"]!.GetValue<string>()); // the input is left as it was
        var evaluator = EvaluatorFactory.Create(inlined, "evaluator", "/nonexistent");
        var good = await evaluator.EvaluateAsync(EvaluationInput.Of("""{"name":"Ada"}""", null), CancellationToken.None);
        var bad = await evaluator.EvaluateAsync(EvaluationInput.Of("""{"age":3}""", null), CancellationToken.None);
        Assert.Equal(1.0, good.Score);
        Assert.Equal(0.0, bad.Score);
    }

    [Fact]
    public void A_missing_schema_file_is_named_with_its_place_in_the_spec()
    {
        var spec = JsonNode.Parse("""{"type":"json_schema","schema":"missing.json"}""")!.AsObject();
        var error = Assert.Throws<SpecException>(() => EvaluatorFactory.WithFilesInlined(spec, "evaluator", Path.GetTempPath()));
        Assert.Contains("evaluator.schema", error.Message);
        Assert.Contains("missing.json", error.Message);
    }
}
