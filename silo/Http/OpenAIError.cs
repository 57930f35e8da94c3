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
            return Unexpected(e).ToResult();
        }
    }

    /// <summary>
    /// The answer to an exception no endpoint expected: a 503 <c>cluster_unavailable</c> when a silo the call
    /// needed is unreachable (one just killed or stopping: the cluster declares it dead within seconds and a
    /// retry then succeeds, so clients treat it as transient), else a 500 naming the failure. Only the
    /// message's first line, redacted: Orleans puts the inner exception's stack trace into the message of
    /// its rejections, and a client must see one line, never a stack trace.
    /// </summary>
    public static OpenAIError Unexpected(Exception e)
    {
        var message = FirstLine(GrainInterfaces.Secrets.Redact(e.Message));
        return e is Orleans.Runtime.OrleansMessageRejectionException or Orleans.Runtime.SiloUnavailableException
            ? new OpenAIError(StatusCodes.Status503ServiceUnavailable,
                $"A silo this request needed is unreachable (it may have just stopped; the cluster notices within seconds): retry. {e.GetType().Name}: {message}",
                null, "server_error", "cluster_unavailable")
            : new OpenAIError(StatusCodes.Status500InternalServerError, $"{e.GetType().Name}: {message}", null, "server_error", null);
    }

    static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end].TrimEnd();
    }
}
