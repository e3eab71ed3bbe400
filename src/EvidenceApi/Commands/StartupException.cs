namespace EvidenceApi.Commands;

/// <summary>
/// The API cannot start, for a reason the person starting it can fix: the message is one short paragraph naming the fix,
/// printed as it is (no stack trace), and the process ends with <see cref="ExitCode"/>.
/// </summary>
/// <param name="message">What is wrong and what to do about it.</param>
/// <param name="exitCode">2 when the set-up cannot work as it is (configuration, permissions, missing programs); 1 otherwise.</param>
/// <param name="inner">The failure behind it, if any.</param>
public sealed class StartupException(string message, int exitCode = 1, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
