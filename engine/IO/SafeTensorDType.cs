using static TorchSharp.torch;

namespace Orleans.Rft.Engine.IO;

/// <summary>Maps safetensors dtype strings to TorchSharp scalar types and back.</summary>
public static class SafeTensorDType
{
    public static ScalarType ToScalarType(string dtype, string path, string tensor) => dtype switch
    {
        "F32" => ScalarType.Float32,
        "BF16" => ScalarType.BFloat16,
        "F16" => ScalarType.Float16,
        "F64" => ScalarType.Float64,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"{path}: tensor '{tensor}' has dtype '{dtype}', which is not supported (F32, BF16, F16, F64, I64, I32, I8, U8, BOOL are)."),
    };

    public static string FromScalarType(ScalarType type) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float16 => "F16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"safetensors cannot store {type}."),
    };

    public static long ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "BF16" or "F16" => 2,
        _ => 1,
    };

    /// <summary>Parses a user-facing dtype name (<c>float32</c>, <c>bf16</c>, ...).</summary>
    public static ScalarType ParseName(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "f32" or "fp32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "f16" or "fp16" or "half" => ScalarType.Float16,
        _ => throw new ArgumentException($"unknown dtype '{name}': use float32, bfloat16 or float16."),
    };
}
