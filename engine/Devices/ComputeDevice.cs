using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Devices;

/// <summary>
/// The device a model runs on, chosen by configuration: <c>auto</c> (CUDA when available, else CPU),
/// <c>cpu</c> or <c>cuda:N</c>. Compute dtype follows the device: float32 on CPU (bf16 matmul is
/// ~100× slower on the CPUs we measured), bfloat16 on CUDA.
/// </summary>
public sealed record ComputeDevice(Device Device, ScalarType ComputeDType)
{
    public static ComputeDevice Cpu => new(CPU, ScalarType.Float32);

    public static ComputeDevice Parse(string spec)
    {
        spec = spec.Trim().ToLowerInvariant();
        if (spec == "cpu") return Cpu;
        if (spec == "auto") return cuda.is_available() ? new(new Device(DeviceType.CUDA, 0), ScalarType.BFloat16) : Cpu;
        if (spec == "cuda" || spec.StartsWith("cuda:"))
        {
            int index = 0;
            if (spec.Length > 4 && !int.TryParse(spec[5..], out index))
                throw new ArgumentException($"device '{spec}': the CUDA index must be a number, as in cuda:0.");
            if (!cuda.is_available())
                throw new ArgumentException($"device '{spec}': CUDA is not available (this build uses the {Backend} backend; build with -p:TorchBackend=cuda on a GPU machine), use 'cpu' or 'auto'.");
            if (index >= cuda.device_count())
                throw new ArgumentException($"device '{spec}': only {cuda.device_count()} CUDA device(s) present.");
            return new(new Device(DeviceType.CUDA, index), ScalarType.BFloat16);
        }
        throw new ArgumentException($"device '{spec}' is not one of auto, cpu, cuda:N.");
    }

    /// <summary>Which native backend this process loaded.</summary>
    public static string Backend => cuda.is_available() ? "cuda" : "cpu";

    public override string ToString() => $"{Device} ({ComputeDType})";
}
