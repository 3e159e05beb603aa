using BatchScoring.Output;
using Spectre.Console;

namespace BatchScoring.Running;

/// <summary>
/// Runs a <see cref="ScoringJob"/> under signal handling and turns what ends it into one line on stderr
/// and an exit code (<see cref="ExitCodes"/>). After a stop or failure the committed parts and the
/// manifest are kept for --resume, and what is not committed is removed.
/// </summary>
public static class JobRunner
{
    public static async Task<int> RunAsync(JobOptions options)
    {
        using var signals = new SignalHandling();
        var job = new ScoringJob(options, signals);
        // Whoever ends the run (a second signal, or the stop on the first) says so and cleans up, once.
        var ending = 0;
        signals.OnSecondSignal = code =>
        {
            if (Interlocked.Exchange(ref ending, 1) == 1)
                return;
            ConsoleReports.Error($"Stopped at once. {Abandon(job)}");
            // Environment.Exit runs no finally blocks: let go of the lock (and remove its file) here.
            job.Session?.Dispose();
            Environment.Exit(code);
        };
        try
        {
            return await job.RunAsync();
        }
        catch (Exception e) when (signals.Token.IsCancellationRequested && Find<OperationCanceledException>(e) is not null)
        {
            // A second signal already ended the run: it exits the process from its own thread.
            if (Interlocked.Exchange(ref ending, 1) == 1)
                Thread.Sleep(Timeout.Infinite);
            ConsoleReports.Error($"Stopped by {SignalHandling.Name(signals.Received!.Value)}. {Abandon(job)}");
            return signals.ExitCode;
        }
        catch (OutputLockedException e)
        {
            ConsoleReports.Error(e.Message);
            return ExitCodes.OutputLocked;
        }
        catch (Exception e) when (Find<BadRowException>(e) is { } bad)
        {
            var skip = options.BadRows == BadRowPolicy.Stop ? " Fix the row, or pass --bad-rows skip to write bad rows to <output>.rejects.csv and go on." : "";
            ConsoleReports.Error($"{bad.Message}.{skip} {Abandon(job)}");
            return ExitCodes.BadRow;
        }
        catch (Exception e) when (Find<UsageException>(e) is { } usage)
        {
            ConsoleReports.Error($"{usage.Message}{AbandonNote(job)}");
            return ExitCodes.Usage;
        }
        catch (Exception e)
        {
            if (options.Verbose)
                AnsiConsole.WriteException(e);
            ConsoleReports.Error($"{Describe(e)} {Abandon(job)}");
            return ExitCodes.Error;
        }
        finally
        {
            job.Session?.Dispose();
        }
    }

    private static string Abandon(ScoringJob job) => job.Session?.Abandon(job.Writer?.Manifest ?? job.Session.Manifest) ?? "No output was started.";

    // A usage error found before any row was written needs no word about files.
    private static string AbandonNote(ScoringJob job)
    {
        var line = Abandon(job);
        return line.StartsWith("Kept", StringComparison.Ordinal) ? " " + line : "";
    }

    private static T? Find<T>(Exception e) where T : Exception
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is T found)
                return found;
            if (current is AggregateException { InnerExceptions.Count: > 0 } aggregate && aggregate.InnerExceptions.Select(Find<T>).FirstOrDefault(f => f is not null) is { } inner)
                return inner;
        }
        return null;
    }

    /// <summary>Library and ML.NET errors often wrap the message that says what went wrong; show the chain once.</summary>
    public static string Describe(Exception e)
    {
        var messages = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
            if (!messages.Any(m => m.Contains(current.Message, StringComparison.Ordinal)))
                messages.Add(current.Message);
        return string.Join(" <- ", messages);
    }
}
