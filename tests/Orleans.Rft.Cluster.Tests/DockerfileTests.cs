using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// The Dockerfiles (infra/docker) read against the repository, since no Docker engine runs here: what they
/// COPY exists, the ENTRYPOINT runs the assembly the published project builds, the runtime base is one whose
/// libstdc++ loads TorchSharp unpatched, and the container does not run as root.
/// </summary>
public sealed class DockerfileTests
{
    static readonly string Repo = Repository.Root;
    static readonly string[] Dockerfiles = Directory.GetFiles(Path.Combine(Repo, "infra", "docker"), "*.Dockerfile");

    [Fact]
    public void Every_copied_source_and_every_restored_or_published_project_exists_in_the_repository()
    {
        Assert.Equal(["console.Dockerfile", "silo-cuda.Dockerfile", "silo.Dockerfile"], Dockerfiles.Select(Path.GetFileName).Order());
        foreach (var file in Dockerfiles)
            foreach (var instruction in Instructions(file))
            {
                if (instruction.Keyword == "COPY" && !instruction.Arguments.StartsWith("--from", StringComparison.Ordinal))
                {
                    var parts = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    foreach (var source in parts[..^1])
                        Assert.True(File.Exists(Path.Combine(Repo, source)) || Directory.Exists(Path.Combine(Repo, source.TrimEnd('/'))),
                            $"{Path.GetFileName(file)}: COPY {source}: no such file or folder in the repository");
                }
                foreach (Match project in Regex.Matches(instruction.Arguments, @"dotnet (?:restore|publish) (\S+\.csproj)"))
                    Assert.True(File.Exists(Path.Combine(Repo, project.Groups[1].Value)), $"{Path.GetFileName(file)}: {project.Value}: no such project");
            }
    }

    [Fact]
    public void The_entrypoint_runs_the_assembly_its_published_project_builds()
    {
        foreach (var file in Dockerfiles)
        {
            var instructions = Instructions(file);
            var published = instructions.Select(i => Regex.Match(i.Arguments, @"dotnet publish (\S+\.csproj)")).Single(m => m.Success).Groups[1].Value;
            var assembly = XDocument.Load(Path.Combine(Repo, published)).Descendants("AssemblyName").Single().Value;
            var entrypoint = JsonSerializer.Deserialize<string[]>(instructions.Last(i => i.Keyword == "ENTRYPOINT").Arguments)!;
            Assert.Equal("dotnet", entrypoint[0]);
            Assert.True(Path.GetFileName(entrypoint[1]) == assembly + ".dll", $"{Path.GetFileName(file)} runs {entrypoint[1]}, but {published} builds {assembly}.dll");
        }
    }

    [Fact]
    public void Runtime_stages_use_an_ubuntu_24_04_base_and_a_non_root_user_and_the_cuda_image_builds_the_cuda_backend()
    {
        foreach (var file in Dockerfiles)
        {
            var instructions = Instructions(file);
            var name = Path.GetFileName(file);
            // Every FROM: Debian 12's libstdc++ lacks the GLIBCXX_3.4.32 TorchSharp's native library asks for (NOTES.md).
            foreach (var from in instructions.Where(i => i.Keyword == "FROM"))
                Assert.True(from.Arguments.Contains("-noble", StringComparison.Ordinal) || from.Arguments.Contains("ubuntu24.04", StringComparison.Ordinal),
                    $"{name}: FROM {from.Arguments} is not an Ubuntu 24.04 image");
            var final = instructions.SkipWhile((_, i) => i < instructions.FindLastIndex(x => x.Keyword == "FROM")).ToList();
            var user = final.LastOrDefault(i => i.Keyword == "USER")?.Arguments;
            Assert.True(user is not null && user is not "root" and not "0", $"{name}: the final stage runs as '{user ?? "root (no USER)"}'");
            if (name.Contains("cuda", StringComparison.Ordinal))
                Assert.All(instructions.Where(i => i.Arguments.Contains("dotnet restore") || i.Arguments.Contains("dotnet publish")),
                    i => Assert.Contains("-p:TorchBackend=cuda", i.Arguments));
        }
        // The switch the CUDA image uses is the one the engine's project reads.
        Assert.Contains("'$(TorchBackend)'=='cuda'", File.ReadAllText(Path.Combine(Repo, "engine", "Orleans.Rft.Engine.csproj")));
        var ignored = File.ReadAllLines(Path.Combine(Repo, ".dockerignore"));
        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
    }

    sealed record Instruction(string Keyword, string Arguments);

    /// <summary>The instructions of a Dockerfile: comments dropped, backslash continuations joined.</summary>
    static List<Instruction> Instructions(string path)
    {
        var joined = Regex.Replace(string.Join("\n", File.ReadAllLines(path).Where(l => !l.TrimStart().StartsWith('#'))), @"\\\n", " ");
        return joined.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', 2))
            .Select(p => new Instruction(p[0].ToUpperInvariant(), p.Length > 1 ? Regex.Replace(p[1], @"\s+", " ").Trim() : ""))
            .ToList();
    }
}
