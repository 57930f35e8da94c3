using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat.Jinja;

namespace Orleans.Rft.Engine.Tests;

public sealed class JinjaTemplateTests
{
    static string Render(string source, object? context = null)
    {
        var ctx = context is null ? new Dictionary<string, object?>() : (Dictionary<string, object?>)JinjaTemplate.FromJson(JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(context)))!;
        return new JinjaTemplate(source).Render(ctx, () => new DateTime(2026, 11, 26, 1, 2, 3));
    }

    [Fact]
    public void Json_integers_stay_ints_and_json_floats_stay_floats_as_python_json_loads_them()
    {
        Assert.Equal("{\"a\": 1, \"b\": 1.0, \"c\": 2.5} 1 1.0", Render("{{ x | tojson }} {{ x.a }} {{ x.b }}", new { x = JsonNode.Parse("{\"a\": 1, \"b\": 1.0, \"c\": 2.5}") }));
    }
}
