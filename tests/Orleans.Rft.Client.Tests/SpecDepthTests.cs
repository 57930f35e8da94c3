using Orleans.Rft.Grains.Jobs.Spec;
using Orleans.Rft.Client.Commands;
using Orleans.Rft.Client.Jobs;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// However deeply a job file nests, reading it ends in an error naming the file, the line and the
/// field (exit 2), never a stack overflow (exit 134) or an internal exception (exit 1).
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class SpecDepthTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-depth-tests", Guid.NewGuid().ToString("N")[..8]);

    public SpecDepthTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    string Write(string yaml)
    {
        var path = Path.Combine(dir, "job.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Theory]
    [InlineData(65)]
    [InlineData(1_000)]
    [InlineData(20_000)]
    [InlineData(200_000)]
    public void Yaml_nested_deeper_than_64_levels_names_the_line(int depth)
    {
        var path = Write("base_model: model\ndataset: train.jsonl\nevaluator:\n  type: multi\n  evaluators: " + new string('[', depth) + "1" + new string(']', depth) + "\n");
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(path));
        var error = Assert.Single(e.Errors);
        Assert.Equal(("yaml", 5), (error.Field, error.Line));
        Assert.Contains("nested deeper than 64 levels", error.Message);

        var (exit, _, stderr) = ConsoleCapture.Run(JobCommands.Create().Single(c => c.Name == "submit"), "submit", path, "--gateway-port", "1");
        Assert.True(exit == 2, $"exit {exit}: {stderr}");
        Assert.DoesNotContain("Exception", stderr);
    }

    [Fact]
    public void A_formula_nested_20000_deep_in_a_job_file_is_a_field_error()
    {
        var path = Write("base_model: model\ndataset: train.jsonl\nevaluator:\n  type: multi\n  evaluators:\n    a: {type: contains}\n  formula: \""
            + new string('(', 20_000) + "a" + new string(')', 20_000) + "\"\n");
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(path));
        var error = Assert.Single(e.Errors, x => x.Field == "evaluator.formula");
        Assert.Equal(7, error.Line);
        Assert.Contains("a formula may have at most 4,096", error.Message);
    }
}
