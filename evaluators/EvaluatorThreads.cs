namespace Orleans.Rft.Evaluators;

/// <summary>
/// Threads for synchronous evaluators, kept between items: an item goes to an idle one or, when none is
/// idle, to a new thread started for it, so it always starts at once and a runaway evaluator (one that
/// ignores its token) only ever holds its own thread, never the thread pool that runs the timers ending
/// it. Starting a thread per item cost about 0.7 ms, most of a built-in's scoring time; up to
/// <see cref="MaxIdle"/> threads stay parked for the next items, the rest end.
/// </summary>
public static class EvaluatorThreads
{
    public const int MaxIdle = 16;

    static readonly object gate = new();
    static readonly Queue<Action> handed = new();
    static int idle; // threads parked in Loop, each with a claim on at most one handed item

    public static void Run(Action work)
    {
        var context = ExecutionContext.Capture();
        Action item = context is null ? work : () => ExecutionContext.Run(context, static w => ((Action)w!)(), work);
        lock (gate)
        {
            if (idle > 0)
            {
                idle--; // claimed: exactly one parked thread takes it
                handed.Enqueue(item);
                Monitor.Pulse(gate);
                return;
            }
        }
        new Thread(() => Loop(item)) { IsBackground = true, Name = "rft-evaluator" }.Start();
    }

    static void Loop(Action work)
    {
        while (true)
        {
            work(); // never throws: the runner's wrapper hands exceptions to the awaiting task
            lock (gate)
            {
                if (idle >= MaxIdle) return;
                idle++;
                while (handed.Count == 0) Monitor.Wait(gate);
                work = handed.Dequeue();
            }
        }
    }
}
