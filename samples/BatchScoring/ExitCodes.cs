namespace BatchScoring;

/// <summary>The job's exit codes, as the README documents them. Schedulers retry on some and not others, so each cause has its own.</summary>
public static class ExitCodes
{
    /// <summary>Every row scored (or skipped under --bad-rows skip), the output complete.</summary>
    public const int Ok = 0;

    /// <summary>Something failed while running: the model, the engine, a read or a write. The message says what.</summary>
    public const int Error = 1;

    /// <summary>The command line or what it names is wrong (an argument, a missing file, an output that exists): nothing was started.</summary>
    public const int Usage = 2;

    /// <summary>--check-parity found outputs outside the tolerance (the output is written).</summary>
    public const int ParityMismatch = 3;

    /// <summary>A bad row stopped the job (--bad-rows stop, the default); committed parts are kept for --resume.</summary>
    public const int BadRow = 4;

    /// <summary>Another job holds the output's lock.</summary>
    public const int OutputLocked = 5;

    /// <summary>128 + the signal's number, as shells report a process ended by it: 129 SIGHUP, 130 SIGINT (Ctrl+C), 143 SIGTERM.</summary>
    public const int Hangup = 129;

    public const int Interrupted = 130;

    public const int Terminated = 143;
}
