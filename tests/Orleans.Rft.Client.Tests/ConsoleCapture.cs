using System.CommandLine;

namespace Orleans.Rft.Client.Tests;

/// <summary>Tests that swap the process-wide console run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}

/// <summary>Runs an <c>rft</c> command line as the tool would (<see cref="Cli.Run"/>) and returns its exit code, stdout and stderr.</summary>
public static class ConsoleCapture
{
    public static (int Exit, string Out, string Error) Run(Command command, params string[] args)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var root = new RootCommand("rft test") { command };
            var exit = Cli.Run(root, args);
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }
}
