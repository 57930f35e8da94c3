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
    public static (int Exit, string Out, string Error) Run(Command command, params string[] args) => RunWithInput(command, "", args);

    /// <summary>As <see cref="Run"/>, with <paramref name="stdin"/> as the console's input; <paramref name="onWrite"/> sees each write to stdout as it happens.</summary>
    public static (int Exit, string Out, string Error) RunWithInput(Command command, string stdin, string[] args, Action<string>? onWrite = null)
    {
        var oldIn = Console.In;
        Console.SetIn(new StringReader(stdin));
        try { return Capture(command, args, onWrite); }
        finally { Console.SetIn(oldIn); }
    }

    /// <summary>For call sites that list the arguments inline.</summary>
    public static (int Exit, string Out, string Error) RunWithInput(Command command, string stdin, params string[] args) => RunWithInput(command, stdin, args, null);

    static (int Exit, string Out, string Error) Capture(Command command, string[] args, Action<string>? onWrite)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new ObservedWriter(onWrite), new StringWriter());
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

/// <summary>A <see cref="StringWriter"/> that reports every write as it happens (a test that checks output is streamed, not buffered).</summary>
sealed class ObservedWriter(Action<string>? onWrite) : StringWriter
{
    public override void Write(char value) { base.Write(value); onWrite?.Invoke(ToString()); }
    public override void Write(string? value) { base.Write(value); onWrite?.Invoke(ToString()); }
    public override void Write(char[] buffer, int index, int count) { base.Write(buffer, index, count); onWrite?.Invoke(ToString()); }
}
