using System.Runtime.InteropServices;

namespace BatchScoring.Running;

/// <summary>
/// SIGINT (Ctrl+C), SIGTERM (what schedulers and `docker stop` send) and SIGHUP (a closed terminal)
/// all stop the job the same way: the first cancels <see cref="Token"/>, so the job stops between rows,
/// keeps its committed parts and manifest for --resume and removes what is not committed; a second
/// signal runs <see cref="OnSecondSignal"/>, which must end the process at once.
/// </summary>
public sealed class SignalHandling : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _signals;

    public SignalHandling()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            _registrations.Add(PosixSignalRegistration.Create(signal, Handle));
    }

    public CancellationToken Token => _cancel.Token;

    /// <summary>The first signal received; null while none has come.</summary>
    public PosixSignal? Received { get; private set; }

    /// <summary>Runs (on the signal's thread) when a second signal comes; gets the first signal's exit code.</summary>
    public Action<int>? OnSecondSignal { get; set; }

    /// <summary>Printed (to stderr) when the first signal comes.</summary>
    public string FirstSignalNote { get; set; } = "Stopping after the current row (send the signal again to stop at once)...";

    public static int ExitCodeOf(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => ExitCodes.Hangup,
        PosixSignal.SIGTERM => ExitCodes.Terminated,
        _ => ExitCodes.Interrupted,
    };

    public int ExitCode => Received is { } signal ? ExitCodeOf(signal) : ExitCodes.Interrupted;

    private void Handle(PosixSignalContext context)
    {
        // Never the default action (ending the process with no clean-up); this class decides.
        context.Cancel = true;
        if (Interlocked.Increment(ref _signals) == 1)
        {
            Received = context.Signal;
            Console.Error.WriteLine($"{Name(context.Signal)}: {FirstSignalNote}");
            _cancel.Cancel();
            return;
        }
        OnSecondSignal?.Invoke(ExitCode);
    }

    public static string Name(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGINT => "SIGINT",
        PosixSignal.SIGTERM => "SIGTERM",
        PosixSignal.SIGHUP => "SIGHUP",
        _ => signal.ToString(),
    };

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
        _cancel.Dispose();
    }
}
