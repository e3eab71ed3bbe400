using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace EvidenceApi.Database;

/// <summary>
/// Keeps the embedded server running under a running API: when it stops or dies (killed, stopped by the instance that
/// started it, a crash), it is started again on the same port. While it is down, or when it cannot be started, the
/// readiness check and the log say why.
/// </summary>
public sealed partial class EmbeddedPostgresSupervisor(
    EmbeddedPostgres server, NpgsqlDataSource dataSource, ILogger<EmbeddedPostgresSupervisor> logger) : BackgroundService, IHealthCheck
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private volatile string? problem;
    private string? lastLogged;

    /// <summary>Why the server is not available, or null when it runs.</summary>
    public string? Problem => problem;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(problem is { } reason
            ? HealthCheckResult.Unhealthy(reason)
            : HealthCheckResult.Healthy("The embedded PostgreSQL server runs."));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await NextTickAsync(timer, stoppingToken))
        {
            if (server.IsRunning())
            {
                problem = null;
                lastLogged = null;
                continue;
            }

            problem ??= $"The embedded PostgreSQL server (data in {server.DataDirectory}) is not running; starting it again.";
            if (lastLogged is null)
            {
                LogStopped(logger, server.DataDirectory, server.Port);
            }

            try
            {
                await server.RestartAsync(stoppingToken);
                dataSource.Clear();
                problem = null;
                lastLogged = null;
                LogRestarted(logger, server.Port);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (InvalidOperationException ex)
            {
                var reason = $"The embedded PostgreSQL server (data in {server.DataDirectory}) is not running and could not be started: {ex.Message}";
                if (reason != lastLogged)
                {
                    LogCannotStart(logger, reason);
                }

                problem = lastLogged = reason;
            }
        }
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The embedded PostgreSQL server (data in {DataDirectory}) stopped; starting it again on port {Port}")]
    private static partial void LogStopped(ILogger logger, string dataDirectory, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "The embedded PostgreSQL server runs again on port {Port}")]
    private static partial void LogRestarted(ILogger logger, int port);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Reason} Retrying every second.")]
    private static partial void LogCannotStart(ILogger logger, string reason);
}
