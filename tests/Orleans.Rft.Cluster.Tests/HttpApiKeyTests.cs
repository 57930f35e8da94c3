using Orleans.Rft.Silo;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>API keys: from the list and the file, matched exactly, never in the logged configuration.</summary>
public sealed class HttpApiKeyTests
{
    [Fact]
    public void Keys_from_the_list_and_the_file_are_accepted_as_Bearer_tokens_and_nothing_else_is()
    {
        var file = Path.GetTempFileName();
        File.WriteAllLines(file, ["# team keys", "", "  sk-from-file  ", "sk-second"]);
        var keys = new ApiKeys(new RftSiloOptions { ApiKeys = ["sk-listed"], ApiKeysFile = file });
        Assert.Equal(3, keys.Count);
        Assert.True(keys.Accepts("Bearer sk-listed"));
        Assert.True(keys.Accepts("Bearer sk-from-file"));
        Assert.True(keys.Accepts("bearer sk-second"));
        foreach (var wrong in new[] { null, "", "sk-listed", "Basic sk-listed", "Bearer sk-liste", "Bearer sk-listedx", "Bearer # team keys", "Bearer " })
            Assert.False(keys.Accepts(wrong), wrong);
        File.Delete(file);
    }

    [Fact]
    public void The_logged_silo_configuration_never_contains_an_API_key()
    {
        var options = new RftSiloOptions { ApiKeys = ["sk-secret-4242"] };
        Assert.DoesNotContain("sk-secret-4242", SiloConfigurationLog.Describe(options));
    }

    [Fact]
    public void No_keys_means_none_required()
    {
        Assert.False(new ApiKeys(new RftSiloOptions()).Required);
    }
}
