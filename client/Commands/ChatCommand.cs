using System.CommandLine;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Http;

namespace Orleans.Rft.Client.Commands;

/// <summary>
/// <c>rft chat --model NAME</c>: a terminal chat against the cluster's endpoint or any OpenAI-compatible
/// URL. The history is kept client-side and sent whole each turn (the protocol is stateless); the
/// answer is printed as it streams. Lines read from stdin, so a pipe scripts it: <c>/reset</c> clears
/// the history, <c>/exit</c> or end of input quits.
/// </summary>
public static class ChatCommand
{
    public const string DefaultUrl = "http://127.0.0.1:8080/v1";

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "served model: a base model's name, a deployment, or jobs/<id>", Required = true };
        var url = Jobs.ClusterConnection.Url; // shared with the cluster commands: one RFT_URL serves them all
        var apiKey = Jobs.ClusterConnection.ApiKey;
        var system = new Option<string?>("--system") { Description = "system message that starts the history (kept by /reset)" };
        var temperature = new Option<double?>("--temperature") { Description = "sampling temperature (the server's default when left out)" };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "most tokens per answer (the server's default when left out)" };
        var command = new Command("chat", "chat with a served model in the terminal (/reset clears the history, /exit quits)") { model, url, apiKey, system, temperature, maxTokens };
        command.SetAction(async (p, cancellation) =>
        {
            var baseUrl = ParseUrl(p.GetValue(url) ?? Environment.GetEnvironmentVariable("RFT_URL") ?? DefaultUrl);
            if (p.GetValue(temperature) is double t && (t < 0 || double.IsNaN(t))) throw new ArgumentException($"--temperature is {t}; give a value ≥ 0.");
            if (p.GetValue(maxTokens) is int m && m < 1) throw new ArgumentException($"--max-tokens is {m}; give at least 1.");
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan }; // each turn has its own deadline (ChatCompletionsClient.TurnTimeout)
            var client = new ChatCompletionsClient(http, baseUrl, p.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("RFT_API_KEY"));
            return await Converse(client, p.GetValue(model)!, p.GetValue(system), p.GetValue(temperature), p.GetValue(maxTokens), p.GetValue(Cli.Json), cancellation);
        });
        return command;
    }

    static async Task<int> Converse(ChatCompletionsClient client, string model, string? system, double? temperature, int? maxTokens, bool json, CancellationToken cancellation)
    {
        var history = new JsonArray();
        void Reset()
        {
            history.Clear();
            if (!string.IsNullOrEmpty(system)) history.Add(Message("system", system));
        }
        Reset();
        bool interactive = !Console.IsInputRedirected;
        if (interactive) Console.Error.WriteLine($"chat with {model}; /reset clears the history, /exit quits");
        int exit = Cli.Ok;
        while (!cancellation.IsCancellationRequested)
        {
            if (interactive) Console.Write("> ");
            string? line;
            line = await ReadLineAsync(Console.In, cancellation);
            if (line is null || line.Trim() == "/exit") break; // end of input (Ctrl+D) or /exit
            if (line.Trim() == "/reset")
            {
                Reset();
                Console.Error.WriteLine("(history cleared)");
                continue;
            }
            if (string.IsNullOrWhiteSpace(line)) continue;
            history.Add(Message("user", line));
            try
            {
                var turn = await client.StreamAsync(model, history, temperature, maxTokens, delta => { if (!json) { Console.Write(delta); Console.Out.Flush(); } }, cancellation);
                history.Add(Message("assistant", turn.Content));
                if (json)
                    Console.WriteLine(new JsonObject
                    {
                        ["role"] = "assistant",
                        ["content"] = turn.Content,
                        ["finish_reason"] = turn.FinishReason,
                        ["usage"] = turn.PromptTokens is null && turn.CompletionTokens is null ? null
                            : new JsonObject { ["prompt_tokens"] = turn.PromptTokens, ["completion_tokens"] = turn.CompletionTokens },
                    }.ToJsonString());
                else
                {
                    Console.WriteLine();
                    if (turn.FinishReason == "length") Console.Error.WriteLine("(cut at the token limit; --max-tokens raises it)");
                }
            }
            catch (ChatServerException e)
            {
                history.RemoveAt(history.Count - 1); // the failed turn is not part of the conversation
                Console.Error.WriteLine($"error: {Cli.Redact(e.Message)}");
                exit = Cli.Failure;
                if (e.IsFatal) break;
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { break; }
        }
        return exit;
    }

    /// <summary>The next line of <paramref name="input"/>, or null at its end or once <paramref name="cancellation"/> fires (Ctrl+C at the prompt).</summary>
    public static async Task<string?> ReadLineAsync(TextReader input, CancellationToken cancellation)
    {
        // Console.In reads synchronously and ignores the token, so the read runs on the pool and only the wait is
        // cancelled; a read abandoned this way ends with the process (Ctrl+C quits the chat).
        try { return await Task.Run(input.ReadLine, CancellationToken.None).WaitAsync(cancellation); }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { return null; }
    }

    static JsonObject Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    /// <summary>
    /// The OpenAI base URL: as given (<c>…/v1</c>, or any OpenAI-compatible server's path), or, for a bare host
    /// such as the cluster commands take (<c>http://silo:8080</c>), its <c>/v1</c>.
    /// </summary>
    public static Uri ParseUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--url '{value}' is not an http(s) URL; give the endpoint's base URL such as {DefaultUrl}.");
        return uri.AbsolutePath is "/" or "" ? new Uri(uri, "v1") : uri;
    }
}
