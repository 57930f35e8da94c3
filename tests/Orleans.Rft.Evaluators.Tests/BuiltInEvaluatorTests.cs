using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators;

namespace Orleans.Rft.Evaluators.Tests;

public sealed class BuiltInEvaluatorTests
{
    static EvaluationResult Score(string specJson, string completion, JsonNode? truth)
    {
        var evaluator = EvaluatorFactory.Create(JsonNode.Parse(specJson)!.AsObject(), "evaluator", ".");
        return evaluator.EvaluateAsync(EvaluationInput.Of(completion, truth), CancellationToken.None).Result;
    }

    [Theory]
    [InlineData("""{"type":"exact_match"}""", " 42 \n", "42", 1.0)]
    [InlineData("""{"type":"exact_match"}""", "Paris", "paris", 0.0)]
    [InlineData("""{"type":"exact_match","ignore_case":true}""", "Paris", "paris", 1.0)]
    [InlineData("""{"type":"numeric","extract":"full"}""", "-8", "-8", 1.0)]
    [InlineData("""{"type":"numeric","extract":"full"}""", "so -8", "-8", 0.0)]
    [InlineData("""{"type":"numeric"}""", "first 3, then 1,250.5", "1250.5", 1.0)]
    [InlineData("""{"type":"numeric","tolerance":0.01}""", "3.141", "3.14", 1.0)]
    [InlineData("""{"type":"numeric","relative_tolerance":0.1}""", "105", "100", 1.0)]
    [InlineData("""{"type":"regex","pattern":"^\\d+$"}""", "123", null, 1.0)]
    [InlineData("""{"type":"regex","pattern":"\\d+","full_match":true}""", "12a", null, 0.0)]
    [InlineData("""{"type":"contains","ignore_case":true}""", "The answer is PARIS.", "paris", 1.0)]
    [InlineData("""{"type":"string_similarity"}""", "kitten", "sitting", 1 - 3.0 / 7)]
    public void Built_in_scores_match_their_definition(string spec, string completion, string? truth, double expected)
    {
        var r = Score(spec, completion, truth is null ? null : JsonValue.Create(truth));
        Assert.True(r.IsScoreValid, r.Reason);
        Assert.Equal(expected, r.Score, 9);
    }

    const string PersonSchema = """
        {"type":"json_schema","schema":{"type":"object","required":["name","age","city"],"additionalProperties":false,
         "properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0},"city":{"type":"string"}}}}
        """;
    static readonly JsonNode Truth = JsonNode.Parse("""{"name":"Maria","age":34,"city":"Lisbon"}""")!;

    [Fact]
    public void Json_schema_gives_the_share_of_matching_fields_of_a_schema_valid_object()
    {
        var r = Score(PersonSchema, """{"name": "Maria", "age": 34, "city": "Lima"}""", Truth);
        Assert.Equal(2.0 / 3, r.Score, 9);
        Assert.Equal(0.0, r.Metrics!["field.city"].Score);
        Assert.Equal(1.0, Score(PersonSchema, "```json\n{\"name\":\"Maria\",\"age\":34,\"city\":\"Lisbon\"}\n```", Truth).Score);
    }

    [Theory]
    [InlineData("""{"name": "Maria", "age": "34", "city": "Lisbon"}""", "$.age: Value is \"string\" but should be \"integer\"")]
    [InlineData("""{"name": "Maria", "age": 34}""", "$: Required properties [\"city\"] are not present")]
    [InlineData("""{"name": "Maria", "age": 34, "city": "Lisbon", "x": 1}""", "$.x: All values fail against the false schema")]
    [InlineData("""{"name": "Maria", "age": 34, """, "not valid JSON")]
    public void Json_schema_scores_zero_with_the_violation_as_reason(string completion, string reason)
    {
        var r = Score(PersonSchema, completion, Truth);
        Assert.True(r.IsScoreValid);
        Assert.Equal(0.0, r.Score);
        Assert.Contains(reason, r.Reason);
    }

    [Fact]
    public void Multi_combines_by_weights_or_formula_and_reports_each_part()
    {
        const string parts = """ "evaluators":{"exact":{"type":"exact_match"},"sim":{"type":"string_similarity"}} """;
        var weighted = Score("""{"type":"multi",""" + parts + ""","weights":{"exact":0.5,"sim":0.5}}""", "abcd", "abce");
        Assert.Equal(0.5 * 0 + 0.5 * 0.75, weighted.Score, 9);
        Assert.Equal(0.75, weighted.Metrics!["sim"].Score, 9);
        var formula = Score("""{"type":"multi",""" + parts + ""","formula":"max(exact, sim * sim)"}""", "abcd", "abce");
        Assert.Equal(0.5625, formula.Score, 9);
    }

    [Fact]
    public void A_score_outside_0_1_is_invalid_and_never_clipped()
    {
        var r = Score("""{"type":"multi","evaluators":{"a":{"type":"contains"}},"formula":"a * 2"}""", "yes", "yes");
        Assert.False(r.IsScoreValid);
        Assert.Contains("outside [0, 1]", r.Reason);
        Assert.False(EvaluationResult.FromJson(JsonNode.Parse("""{"score": "NaN"}""")).IsScoreValid);
        Assert.False(new EvaluationResult(double.NaN, true, "x").Checked().IsScoreValid);
    }

    [Fact]
    public void A_numeric_reference_that_is_not_a_number_makes_the_result_invalid()
    {
        Assert.False(Score("""{"type":"numeric"}""", "3", "three").IsScoreValid);
    }

    [Theory]
    [InlineData("""{"type":"numerc"}""", "evaluator.type", "'numerc' is not a known evaluator")]
    [InlineData("""{"type":"numeric","tolerence":0.1}""", "evaluator.tolerence", "Did you mean 'tolerance'")]
    [InlineData("""{"type":"numeric","tolerance":-1}""", "evaluator.tolerance", "must be in")]
    [InlineData("""{"type":"regex","pattern":"("}""", "evaluator.pattern", "not a valid regular expression")]
    [InlineData("""{"type":"multi","evaluators":{"a":{"type":"contains"}},"formula":"a + b"}""", "evaluator.formula", "unknown evaluator 'b'")]
    [InlineData("""{"type":"multi","evaluators":{"a":{"type":"contains"}},"weights":{"a":1,"z":1}}""", "evaluator.weights.z", "unknown key")]
    public void A_bad_spec_names_the_field_and_the_fix(string spec, string path, string message)
    {
        var e = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse(spec)!.AsObject(), "evaluator", "."));
        Assert.Equal(path, e.Path);
        Assert.Contains(message, e.Message);
    }
}
