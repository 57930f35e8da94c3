using Microsoft.Extensions.Configuration;
using Orleans.Rft.Evaluators.Python;
using Orleans.Rft.Silo;

namespace Orleans.Rft.Cluster.Tests;

/// <summary><c>Rft:Python</c> is a silo setting like the others: appsettings.json or <c>Rft__Python</c>, applied when the silo starts.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SiloPythonSettingTests(ClusterFixture fixture)
{
    [Fact]
    public void Rft_Python_is_read_from_the_silos_configuration_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Rft:Python"] = "/opt/py/bin/python3" }).Build();
        Assert.Equal("/opt/py/bin/python3", configuration.GetSection("Rft").Get<RftSiloOptions>()!.Python);
    }

    [Fact]
    public async Task A_silo_started_with_Rft_Python_makes_it_the_python_evaluators_interpreter()
    {
        // The python tests of this assembly use /usr/bin/python3 too, so the value they see never changes.
        if (!File.Exists("/usr/bin/python3")) return;
        var before = PythonRuntime.Executable;
        var options = fixture.LocalOptions();
        options.Python = "/usr/bin/python3";
        var cluster = ClusterFixture.BuildCluster(1, options);
        try
        {
            PythonRuntime.Executable = null;
            await cluster.DeployAsync();
            Assert.Equal("/usr/bin/python3", PythonRuntime.Executable);
        }
        finally
        {
            PythonRuntime.Executable ??= before;
            await cluster.DisposeAsync();
        }
    }
}
