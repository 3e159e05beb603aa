using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace BatchScoring.Tests.Support;

/// <summary>What a finished job process gave.</summary>
public sealed record JobResult(int ExitCode, string Output, string Error)
{
    /// <summary>The error lines (stderr lines starting "error:").</summary>
    public List<string> Errors => Error.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();

    public List<string> Warnings => Error.Split('\n').Where(l => l.StartsWith("warning:", StringComparison.Ordinal)).ToList();

    /// <summary>The summary's plain line ("rows=... rejected=..."), as key and value.</summary>
    public Dictionary<string, string> Summary => Output.Split('\n').FirstOrDefault(l => l.StartsWith("rows=", StringComparison.Ordinal)) is { } line
        ? line.Trim().Split(' ').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1])
        : [];

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>
/// Runs the batch scoring job as its own process (`dotnet BatchScoring.dll ...`, the dll the sample's
/// build made): exit codes, signals, SIGKILL and several jobs at once need real processes.
/// </summary>
public static class Job
{
    public static string Dll { get; } = typeof(Job).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "BatchScoringDll").Value!;

    public static Process Start(string workingDirectory, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        Assert.True(File.Exists(Dll), $"The job is not built at {Dll}.");
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(Dll);
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        // A wide console keeps Spectre's tables from wrapping; no colours in captured output.
        info.Environment["COLUMNS"] = "200";
        info.Environment["NO_COLOR"] = "1";
        info.Environment.Remove("JOB_COMPLETION_INDEX");
        info.Environment.Remove("SLURM_ARRAY_TASK_ID");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        return Process.Start(info) ?? throw new InvalidOperationException("Could not start dotnet.");
    }

    public static JobResult Run(string workingDirectory, params string[] arguments) => Run(workingDirectory, arguments, null);

    public static JobResult Run(string workingDirectory, IEnumerable<string> arguments, IDictionary<string, string>? environment, TimeSpan? timeout = null)
    {
        using var process = Start(workingDirectory, arguments, environment);
        return Wait(process, timeout ?? TimeSpan.FromSeconds(90));
    }

    /// <summary>Reads a started job's output to its end; fails the test if it outlives <paramref name="timeout"/>.</summary>
    public static JobResult Wait(Process process, TimeSpan timeout)
    {
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The job did not finish within {timeout}.");
        }
        process.WaitForExit();
        return new JobResult(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Sends a signal with kill(1): TERM, INT, HUP or KILL.</summary>
    public static void Signal(Process process, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, process.Id.ToString()]) { UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, or fails naming <paramref name="what"/>; stops early if the process ends.</summary>
    public static void WaitUntil(Process process, Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!condition())
        {
            if (process.HasExited)
                Assert.Fail($"The job ended (exit {process.ExitCode}) before {what}: {process.StandardError.ReadToEnd()}");
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out waiting until {what}.");
            Thread.Sleep(20);
        }
    }
}
