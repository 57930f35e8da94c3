using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.IO;

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// (<c>{name: {dtype, shape, data_offsets: [begin, end]}}</c>, offsets relative to the end of the
/// header) and the raw little-endian tensor bytes. Spec: huggingface/safetensors README.
/// </summary>
public static class SafeTensorsFile
{
    const long MaxHeaderBytes = 100L * 1024 * 1024; // the reference implementation's own limit

    /// <summary>Lists the tensors in a file without reading their data.</summary>
    public static IReadOnlyDictionary<string, SafeTensorEntry> ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadHeader(stream, path).Entries;
    }

    /// <summary>Loads every tensor of one file (on the CPU, in its stored dtype).</summary>
    public static Dictionary<string, Tensor> Load(string path, Func<string, bool>? include = null)
    {
        using var stream = File.OpenRead(path);
        var (entries, dataStart) = ReadHeader(stream, path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, entry) in entries.OrderBy(e => e.Value.Begin))
        {
            if (include is not null && !include(name)) continue;
            var length = entry.End - entry.Begin;
            var expected = entry.Shape.Aggregate(1L, (a, b) => a * b) * SafeTensorDType.ElementSize(entry.DType);
            if (length != expected)
                throw new InvalidDataException($"{path}: tensor '{name}' has {length} bytes but shape [{string.Join(",", entry.Shape)}] of {entry.DType} needs {expected}.");
            if (dataStart + entry.End > stream.Length)
                throw new InvalidDataException($"{path}: tensor '{name}' ends at byte {dataStart + entry.End}, past the end of the file ({stream.Length} bytes); the file is truncated.");
            var tensor = empty(entry.Shape, SafeTensorDType.ToScalarType(entry.DType, path, name));
            if (length > 0)
            {
                stream.Position = dataStart + entry.Begin;
                stream.ReadExactly(tensor.bytes);
            }
            result[name] = tensor;
        }
        return result;
    }

    /// <summary>Writes tensors (any device; moved to the CPU for writing) in name order.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        var meta = new JsonObject { ["format"] = "pt" };
        if (metadata is not null) foreach (var (k, v) in metadata) meta[k] = v;
        header["__metadata__"] = meta;
        long offset = 0;
        var ordered = tensors.OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        foreach (var (name, tensor) in ordered)
        {
            var bytes = tensor.NumberOfElements * tensor.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = SafeTensorDType.FromScalarType(tensor.dtype),
                ["shape"] = new JsonArray(tensor.shape.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + bytes)),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8; // align the data start to 8 bytes, padding with spaces
        var tmp = path + ".tmp";
        using (var stream = File.Create(tmp))
        {
            stream.Write(BitConverter.GetBytes((ulong)padded));
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (_, tensor) in ordered)
            {
                using var cpu = tensor.detach().cpu().contiguous();
                stream.Write(cpu.bytes);
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    static (IReadOnlyDictionary<string, SafeTensorEntry> Entries, long DataStart) ReadHeader(Stream stream, string path)
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Length < 8 || stream.Read(lengthBytes) != 8)
            throw new InvalidDataException($"{path}: not a safetensors file (shorter than the 8-byte header length).");
        var headerLength = BitConverter.ToInt64(lengthBytes);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > stream.Length)
            throw new InvalidDataException($"{path}: corrupt safetensors header (declared header length {headerLength} bytes, file is {stream.Length} bytes).");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new InvalidDataException("empty header");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: corrupt safetensors header: the JSON header does not parse ({e.Message}).");
        }
        var entries = new Dictionary<string, SafeTensorEntry>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            try
            {
                var o = node!.AsObject();
                var dtype = o["dtype"]!.GetValue<string>();
                var shape = o["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                var offsets = o["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0]) throw new InvalidDataException("bad data_offsets");
                entries[name] = new SafeTensorEntry(name, dtype, shape, offsets[0], offsets[1]);
            }
            catch (Exception e) when (e is not InvalidDataException || e.Message == "bad data_offsets")
            {
                throw new InvalidDataException($"{path}: corrupt safetensors header: entry '{name}' needs dtype, shape and two data_offsets ({e.Message}).");
            }
        }
        return (entries, 8 + headerLength);
    }
}

/// <summary>One tensor's header entry; offsets are relative to the start of the data section.</summary>
public sealed record SafeTensorEntry(string Name, string DType, long[] Shape, long Begin, long End);
