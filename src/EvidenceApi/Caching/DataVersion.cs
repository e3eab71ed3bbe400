using Dapper;
using Npgsql;

namespace EvidenceApi.Caching;

/// <summary>
/// The version of the public evidence, kept current by LISTEN evidence_changed (a trigger NOTIFYs on every change,
/// whichever instance or tool made it). Null while the database cannot be heard: then nothing may be served from cache.
/// </summary>
public sealed partial class DataVersion(NpgsqlDataSource dataSource, ILogger<DataVersion> logger) : BackgroundService
{
    public const string Channel = "evidence_changed";

    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);
    private long current;

    /// <summary>The current version, or null when unknown.</summary>
    public long? Current => Interlocked.Read(ref current) is > 0 and var version ? version : null;

    /// <summary>Reads the version now; writers call it after they commit so that their next read is fresh at once.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        MoveTo(await ReadAsync(connection, cancellationToken));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (long.TryParse(e.Payload, System.Globalization.CultureInfo.InvariantCulture, out var version))
                    {
                        MoveTo(version);
                    }
                };
                await connection.ExecuteAsync(new CommandDefinition($"LISTEN {Channel}", cancellationToken: stoppingToken));

                // Listen first, then read: a change between the two is heard, not missed.
                Interlocked.Exchange(ref current, await ReadAsync(connection, stoppingToken));
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(HeartbeatInterval, stoppingToken))
                    {
                        // A quiet connection may be a dead one: ask, and refresh the version while at it.
                        MoveTo(await ReadAsync(connection, stoppingToken));
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException or IOException)
            {
                Interlocked.Exchange(ref current, 0);
                LogListenerDown(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private static Task<long> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT version FROM data_version WHERE id = 1", cancellationToken: cancellationToken));

    /// <summary>Versions only move forward, whatever order notifications and reads arrive in.</summary>
    private void MoveTo(long version)
    {
        long seen;
        do
        {
            seen = Interlocked.Read(ref current);
            if (version <= seen)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref current, version, seen) != seen);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not listening for evidence changes; reads bypass the cache until the database answers again")]
    private static partial void LogListenerDown(ILogger logger, Exception exception);
}
