using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// A request the endpoint refuses, answered in OpenAI's error shape
/// <c>{"error": {"message", "type", "param", "code"}}</c> with <see cref="Status"/>. Thrown at the edge
/// (parsing, model resolution, limits) and turned into the response by <see cref="OpenAIErrors"/>.
/// </summary>
public sealed class OpenAIError(int status, string message, string? param = null, string type = "invalid_request_error", string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string Type { get; } = type;
    public string? Code { get; } = code;

    public static OpenAIError BadRequest(string message, string? param) => new(StatusCodes.Status400BadRequest, message, param);

    public static OpenAIError ModelNotFound(string model, string why) =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist: {why}", "model", "invalid_request_error", "model_not_found");

    public JsonObject ToJson() => Body(Message, Type, Param, Code);

    public static JsonObject Body(string message, string type, string? param, string? code) => new()
    {
        ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code },
    };
}

/// <summary>Writes errors in OpenAI's shape: the ones the endpoint raised, and any other exception as a 500 that says what failed without a stack trace.</summary>
public static class OpenAIErrors
{
    public static IResult ToResult(this OpenAIError e) => TypedResults.Json(e.ToJson(), statusCode: e.Status);

    public static Task WriteAsync(HttpContext context, OpenAIError e)
    {
        context.Response.StatusCode = e.Status;
        return context.Response.WriteAsJsonAsync(e.ToJson());
    }

    /// <summary>An endpoint filter: <see cref="OpenAIError"/> becomes its response; anything else a 500 naming the failure (messages redacted).</summary>
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try { return await next(context); }
        catch (OpenAIError e) { return e.ToResult(); }
        catch (OperationCanceledException) when (context.HttpContext.RequestAborted.IsCancellationRequested) { return Results.Empty; }
        catch (Exception e) when (!context.HttpContext.Response.HasStarted)
        {
            var log = context.HttpContext.RequestServices.GetService(typeof(Microsoft.Extensions.Logging.ILoggerFactory)) as Microsoft.Extensions.Logging.ILoggerFactory;
            log?.CreateLogger("Orleans.Rft.Silo.Http").LogRequestFailure(context.HttpContext.Request.Path, e);
            return TypedResults.Json(OpenAIError.Body($"{e.GetType().Name}: {GrainInterfaces.Secrets.Redact(e.Message)}", "server_error", null, null), statusCode: StatusCodes.Status500InternalServerError);
        }
    }
}
