using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// <c>GET /v1/models</c>: configured base models (by name and by folder name), configured adapters and
/// deployed adapters, in OpenAI's list shape with vLLM's <c>root</c> and <c>parent</c> (an adapter's
/// parent is its base model). <c>jobs/{id}</c> names are served but not listed: there is one per job.
/// </summary>
public static class ModelsApi
{
    public static RouteHandlerBuilder MapModelsApi(this IEndpointRouteBuilder v1) =>
        v1.MapGet("/models", async (ModelCatalog catalog, CancellationToken cancellation) =>
        {
            var data = new JsonArray();
            foreach (var m in await catalog.ListAsync(cancellation)) data.Add(ToJson(m));
            return TypedResults.Json(new JsonObject { ["object"] = "list", ["data"] = data });
        });

    public static JsonObject ToJson(ServedModel m) => new()
    {
        ["id"] = m.Id,
        ["object"] = "model",
        ["created"] = m.Created.ToUnixTimeSeconds(),
        ["owned_by"] = ModelCatalog.Owner,
        ["root"] = m.Adapter ?? m.BaseModel,
        ["parent"] = m.Parent,
    };
}
