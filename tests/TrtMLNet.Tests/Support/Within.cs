namespace TrtMLNet.Tests.Support;

/// <summary>Runs code that must not hang on a thread of its own, and tells whether it finished in time.</summary>
internal static class Within
{
    /// <summary>True when <paramref name="action"/> returned (or threw) within <paramref name="seconds"/>; its exception is rethrown here.</summary>
    public static bool Completes(Action action, double seconds = 5)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { action(); }
            catch (Exception e) { error = e; }
        }) { IsBackground = true };
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(seconds)))
            return false;
        if (error is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        return true;
    }
}
