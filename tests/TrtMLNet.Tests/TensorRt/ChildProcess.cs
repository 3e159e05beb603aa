using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace TrtMLNet.Tests.TensorRt;

/// <summary>
/// Runs a piece of test code in a fresh process of this test executable. Two kinds of test need it:
/// several processes racing on one engine cache entry (a lock held by a process, a process killed
/// while it holds one), and what a process that never loaded the fake shim says about TensorRT (the
/// shim binds once per process, so in this one the fake may already stand in for it).
/// </summary>
/// <remarks>
/// The child is this same executable started with <see cref="ModeVariable"/> set. A module
/// initializer runs before the test framework's entry point, sees the variable, runs the named
/// mode, and exits with its code; in a normal test run the variable is absent and it does nothing.
/// </remarks>
internal static class ChildProcess
{
    public const string ModeVariable = "TRTMLNET_TEST_CHILD_MODE";
    public const string ArgumentVariable = "TRTMLNET_TEST_CHILD_ARGUMENT";

    private static readonly Dictionary<string, Func<string, int>> s_modes = new(StringComparer.Ordinal);

    /// <summary>Registers what a mode does: it gets the argument and returns the exit code; what it prints is the test's to read.</summary>
    public static void Register(string mode, Func<string, int> run) => s_modes[mode] = run;

    // CA2255 is about libraries, whose initializers would run in others' processes; this is the test executable's own.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RunIfChild()
    {
        var mode = Environment.GetEnvironmentVariable(ModeVariable);
        if (string.IsNullOrEmpty(mode))
            return;
        // Modes register in their test classes' static constructors; run those first.
        RuntimeHelpers.RunClassConstructor(typeof(ChildModes).TypeHandle);
        int code;
        try
        {
            code = s_modes.TryGetValue(mode, out var run) ? run(Environment.GetEnvironmentVariable(ArgumentVariable) ?? "") : 64;
            if (code == 64)
                Console.Error.WriteLine($"unknown child mode '{mode}'");
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e);
            code = 70;
        }
        Console.Out.Flush();
        Environment.Exit(code);
    }

    /// <summary>Starts a child in <paramref name="mode"/>; the caller reads its output and waits for it.</summary>
    public static Process Start(string mode, string argument, IEnumerable<string>? removeVariables = null, IReadOnlyDictionary<string, string>? setVariables = null)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("The test host's path is not known.");
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        // Under 'dotnet test' the host may be the dotnet muxer rather than the test's own apphost.
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            info.ArgumentList.Add("exec");
            info.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }
        info.Environment[ModeVariable] = mode;
        info.Environment[ArgumentVariable] = argument;
        foreach (var name in removeVariables ?? [])
            info.Environment.Remove(name);
        foreach (var (name, value) in setVariables ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {host}.");
    }

    /// <summary>Runs a child to its end and returns its exit code and output; fails the test if it outlives <paramref name="timeout"/>.</summary>
    public static (int ExitCode, string Output, string Error) Run(string mode, string argument, TimeSpan timeout, IEnumerable<string>? removeVariables = null,
        IReadOnlyDictionary<string, string>? setVariables = null)
    {
        using var process = Start(mode, argument, removeVariables, setVariables);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"Child '{mode}' did not finish within {timeout}.");
        }
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>Where child modes are registered (their code lives with the tests that use them).</summary>
internal static class ChildModes
{
    static ChildModes()
    {
        EngineCacheProcessTests.RegisterChildModes();
        TensorRtAvailabilityTests.RegisterChildModes();
        Images.Gpu.FakeGpuTests.RegisterChildModes();
    }
}
