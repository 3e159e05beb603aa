using System.CommandLine;
using BatchScoring;
using BatchScoring.Cli;
using BatchScoring.Running;

// With no arguments at all, run the example.
var arguments = args.Length == 0 ? ["--example"] : args;
var command = new JobCommand();
var parsed = command.Root.Parse(arguments);
// Every parse error is one line on stderr and exit code 2; the first is the one to fix.
if (parsed.Errors.Count > 0)
{
    ConsoleReports.Error($"{parsed.Errors[0].Message} (--help lists the options)");
    return ExitCodes.Usage;
}
// --help and --version are System.CommandLine's; signals are handled by the job, not by it.
if (parsed.Action is not null)
    return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

JobOptions options;
try
{
    options = command.ToOptions(parsed, Environment.GetEnvironmentVariable);
}
catch (UsageException e)
{
    ConsoleReports.Error(e.Message);
    return ExitCodes.Usage;
}
return await JobRunner.RunAsync(options);
