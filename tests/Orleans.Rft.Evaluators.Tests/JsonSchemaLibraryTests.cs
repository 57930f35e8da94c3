using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Tests;

/// <summary>json_schema validates with JsonSchema.Net: draft 2020-12 keywords the old subset lacked, $ref to $defs, asserted formats, and the error's path in the reason.</summary>
public sealed class JsonSchemaLibraryTests
{
    static Task<EvaluationResult> Score(string schema, string completion) =>
        EvaluatorFactory.Create(JsonNode.Parse("""{"type":"json_schema","schema":""" + schema + "}")!.AsObject(), "evaluator", null)
            .EvaluateAsync(EvaluationInput.Of(completion, null), CancellationToken.None);

    const string WithRefs = """
        {"$defs":{"city":{"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1}}}},
         "type":"object","required":["home","trips"],
         "properties":{"home":{"$ref":"#/$defs/city"},"trips":{"type":"array","items":{"$ref":"#/$defs/city"}},
                       "email":{"type":"string","format":"email"},"pair":{"prefixItems":[{"type":"string"},{"type":"integer"}]}}}
        """;

    [Fact]
    public async Task A_ref_into_defs_is_followed_and_the_failing_path_is_named()
    {
        Assert.Equal(1.0, (await Score(WithRefs, """{"home":{"name":"Oslo"},"trips":[{"name":"Rome"}]}""")).Score);
        var bad = await Score(WithRefs, """{"home":{"name":"Oslo"},"trips":[{"name":"Rome"},{"name":""}]}""");
        Assert.Equal(0.0, bad.Score);
        Assert.Contains("$.trips[1].name:", bad.Reason);
    }

    [Fact]
    public async Task Formats_are_asserted_not_just_annotated()
    {
        var bad = await Score(WithRefs, """{"home":{"name":"Oslo"},"trips":[],"email":"not-an-email"}""");
        Assert.Equal(0.0, bad.Score);
        Assert.Contains("$.email: Value does not match format \"email\"", bad.Reason);
        Assert.Equal(1.0, (await Score(WithRefs, """{"home":{"name":"Oslo"},"trips":[],"email":"a@b.org"}""")).Score);
    }

    [Fact]
    public async Task Draft_2020_12_prefixItems_are_checked()
    {
        Assert.Equal(1.0, (await Score(WithRefs, """{"home":{"name":"A"},"trips":[],"pair":["x",1]}""")).Score);
        var bad = await Score(WithRefs, """{"home":{"name":"A"},"trips":[],"pair":["x","y"]}""");
        Assert.Contains("$.pair[1]:", bad.Reason);
    }

    [Fact]
    public async Task A_ref_that_leads_nowhere_is_an_error_with_the_reason_and_no_network_fetch()
    {
        var r = await Score("""{"properties":{"a":{"$ref":"https://example.com/remote.json"}}}""", """{"a":1}""");
        Assert.Equal(0.0, r.Score);
        Assert.Contains("$ref cannot be resolved", r.Reason);
    }
}
