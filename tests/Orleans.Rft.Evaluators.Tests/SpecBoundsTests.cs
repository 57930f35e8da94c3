using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Tests;

/// <summary>
/// Spec strings reach every silo: whatever their size or nesting, reading them ends in a SpecException
/// naming the field (never a stack overflow, which ends the process), and a schema that cannot be
/// used is refused when the spec is read, not when every rollout is scored.
/// </summary>
public sealed class SpecBoundsTests
{
    static IEvaluator Create(string specJson) => EvaluatorFactory.Create(JsonNode.Parse(specJson)!.AsObject(), "evaluator", ".");

    static string Multi(string formula) =>
        new JsonObject { ["type"] = "multi", ["evaluators"] = new JsonObject { ["a"] = new JsonObject { ["type"] = "contains" } }, ["formula"] = formula }.ToJsonString();

    [Fact]
    public void A_formula_nested_20000_deep_is_a_spec_error_not_a_stack_overflow()
    {
        var e = Assert.Throws<SpecException>(() => Create(Multi(new string('(', 20_000) + "a" + new string(')', 20_000))));
        Assert.Equal("evaluator.formula", e.Path);
        Assert.Contains("at most 4,096", e.Message);
    }

    [Theory]
    [InlineData("(", ")")]
    [InlineData("-", "")]
    [InlineData("max(", ")")]
    public void Formula_nesting_is_capped_at_64_levels_naming_the_position(string open, string close)
    {
        string Nested(int depth) => string.Concat(Enumerable.Repeat(open, depth)) + "a" + string.Concat(Enumerable.Repeat(close, depth));
        var ok = Create(Multi(Nested(63))); // the name itself is the 64th level
        Assert.NotNull(ok.EvaluateAsync(EvaluationInput.Of("yes", "yes"), CancellationToken.None).Result.Reason); // builds and runs (63 minus signs score −1, invalid as a reward, but no spec error)
        var e = Assert.Throws<SpecException>(() => Create(Multi(Nested(64))));
        Assert.Equal("evaluator.formula", e.Path);
        Assert.Contains("nesting deeper than 64 levels", e.Message);
        Assert.Contains("at position", e.Message);
    }

    [Fact]
    public void A_long_flat_formula_within_the_length_cap_still_evaluates()
    {
        var formula = "(" + string.Join(" + ", Enumerable.Repeat("a", 1000)) + ") / 1000"; // 4,006 characters, 1,000 terms: a deep closure chain, not deep nesting
        var r = Create(Multi(formula)).EvaluateAsync(EvaluationInput.Of("yes", "yes"), CancellationToken.None).Result;
        Assert.True(r.IsScoreValid, r.Reason);
        Assert.Equal(1, r.Score, 9);
    }

    [Fact]
    public void A_regex_nested_20000_deep_does_not_crash_the_process()
    {
        var spec = new JsonObject { ["type"] = "regex", ["pattern"] = new string('(', 20_000) + "a" + new string(')', 20_000) }.ToJsonString();
        try
        {
            var r = Create(spec).EvaluateAsync(EvaluationInput.Of("a", null), CancellationToken.None).Result;
            Assert.True(r.IsScoreValid, r.Reason);
        }
        catch (SpecException e) { Assert.Equal("evaluator.pattern", e.Path); }
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"(unclosed"}""", "evaluator.schema.pattern", "does not match format \"regex\"")]
    [InlineData("""{"type":"object","properties":{"code":{"type":"string","pattern":"[a-"}}}""", "evaluator.schema.properties.code.pattern", "does not match format \"regex\"")]
    [InlineData("""{"anyOf":[{"type":"string"},{"pattern":7}]}""", "evaluator.schema.anyOf[1].pattern", "Value is \"integer\" but should be \"string\"")]
    [InlineData("""{"type":"strnig"}""", "evaluator.schema.type", "should match one of the values specified by the enum")]
    [InlineData("""{"type":["string",3]}""", "evaluator.schema.type[1]", "should match one of the values specified by the enum")]
    [InlineData("""{"type":"string","minLength":2.5}""", "evaluator.schema.minLength", "but should be \"integer\"")]
    [InlineData("""{"type":"number","maximum":"ten"}""", "evaluator.schema.maximum", "but should be \"number\"")]
    [InlineData("""{"type":"object","required":["a",1]}""", "evaluator.schema.required[1]", "but should be \"string\"")]
    [InlineData("""{"type":"array","items":[{"type":"string"}]}""", "evaluator.schema.items", "should be \"object, boolean\"")]
    [InlineData("""{"type":"object","properties":{"a":"string"}}""", "evaluator.schema.properties.a", "should be \"object, boolean\"")]
    public void A_schema_that_cannot_be_used_is_refused_when_the_spec_is_read(string schema, string path, string message)
    {
        var spec = """{"type":"json_schema","schema":""" + schema + "}";
        var e = Assert.Throws<SpecException>(() => Create(spec));
        Assert.Equal(path, e.Path);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_checked_schema_still_scores_patterns_and_counts()
    {
        var evaluator = Create("""{"type":"json_schema","schema":{"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}$","minLength":3}},"required":["code"]}}""");
        Assert.Equal(1, evaluator.EvaluateAsync(EvaluationInput.Of("""{"code":"ABC"}""", null), CancellationToken.None).Result.Score);
        var miss = evaluator.EvaluateAsync(EvaluationInput.Of("""{"code":"abc"}""", null), CancellationToken.None).Result;
        Assert.Equal(0, miss.Score);
        Assert.Contains("$.code: The string value is not a match for the indicated regular expression", miss.Reason);
    }
}

/// <summary>multi's formula is checked before the job starts: unknown names and divisions by a part that can score 0.</summary>
public sealed class FormulaSubmissionTests
{
    static SpecException Refused(string formula) => Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse(
        "{\"type\":\"multi\",\"formula\":\"" + formula + "\",\"evaluators\":{\"a\":{\"type\":\"exact_match\"},\"b\":{\"type\":\"contains\"}}}")!.AsObject(), "evaluator", null));

    [Theory]
    [InlineData("a / b", "is NaN when a = 0, b = 0")]
    [InlineData("a / 0", "is NaN when a = 0, b = 0")]
    [InlineData("(a + b) / (a - b)", "is NaN when a = 0, b = 0")]
    [InlineData("1 / (1 - a)", "is Infinity when a = 1, b = 0")]
    public void A_division_by_a_score_that_can_be_zero_is_an_error_at_submission(string formula, string when)
    {
        var e = Refused(formula);
        Assert.Equal("evaluator.formula", e.Path);
        Assert.Contains(when, e.Message);
        Assert.Contains("guard the divisor", e.Message);
    }

    [Fact]
    public void An_unknown_evaluator_name_is_an_error_at_submission() =>
        Assert.Contains("unknown evaluator 'c' (defined: a, b)", Refused("a + c").Message);

    [Fact]
    public void A_guarded_division_is_accepted() =>
        EvaluatorFactory.Create(JsonNode.Parse("""{"type":"multi","formula":"a / max(b, 0.5) / 2","evaluators":{"a":{"type":"exact_match"},"b":{"type":"contains"}}}""")!.AsObject(), "evaluator", null);
}
