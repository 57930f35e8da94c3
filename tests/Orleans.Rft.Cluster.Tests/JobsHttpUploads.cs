using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The artifact upload protocol spoken with raw HTTP (begin, chunks, complete), as any client would.</summary>
public static class JobsHttpUploads
{
    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static async Task<JsonObject> Begin(HttpClient http, string sha, long size, string? session = null)
    {
        var body = new JsonObject { ["sha256"] = sha, ["size"] = size };
        if (session is not null) body["session"] = session;
        var (status, answer) = await http.PostAsync("v1/rft/artifacts", body);
        Assert.True(status == 200, answer.ToJsonString());
        return answer;
    }

    public static async Task<(int Status, JsonObject Body)> Put(HttpClient http, string sha, string session, long offset, ReadOnlyMemory<byte> bytes)
    {
        using var content = new ByteArrayContent(bytes.ToArray());
        content.Headers.ContentType = new("application/octet-stream");
        using var response = await http.PutAsync($"v1/rft/artifacts/{sha}/sessions/{session}?offset={offset}", content);
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    public static Task<(int Status, JsonObject Body)> Complete(HttpClient http, string sha, string session) =>
        http.PostAsync($"v1/rft/artifacts/{sha}/sessions/{session}:complete", "");

    /// <summary>Uploads <paramref name="bytes"/> in chunks of <paramref name="chunk"/> bytes; returns its SHA-256.</summary>
    public static async Task<string> Upload(HttpClient http, byte[] bytes, int chunk = 1 << 20)
    {
        var sha = Sha256(bytes);
        var begin = await Begin(http, sha, bytes.Length);
        if (begin["stored"]!.GetValue<bool>()) return sha;
        var session = begin["session"]!.GetValue<string>();
        for (long offset = begin["received"]!.GetValue<long>(); offset < bytes.Length;)
        {
            var n = (int)Math.Min(chunk, bytes.Length - offset);
            var (status, body) = await Put(http, sha, session, offset, bytes.AsMemory((int)offset, n));
            Assert.True(status == 200, body.ToJsonString());
            offset = body["received"]!.GetValue<long>();
        }
        var (done, answer) = await Complete(http, sha, session);
        Assert.True(done == 200, answer.ToJsonString());
        return sha;
    }

    /// <summary>A model folder: each file, then its manifest; the reference a job names it by.</summary>
    public static async Task<string> UploadFolder(HttpClient http, string folder)
    {
        var files = new List<(string, string)>();
        foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
            files.Add((Path.GetFileName(file), await Upload(http, await File.ReadAllBytesAsync(file))));
        return ArtifactReference.ForFolder(await Upload(http, Encoding.UTF8.GetBytes(ArtifactReference.Manifest(files))));
    }

    public static async Task<string> UploadFile(HttpClient http, string path) =>
        ArtifactReference.ForFile(await Upload(http, await File.ReadAllBytesAsync(path)), Path.GetFileName(path));
}
