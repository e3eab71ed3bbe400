using Dapper;
using EvidenceApi.Database;
using Npgsql;

namespace EvidenceApi.Caching;

/// <summary>
/// The version of the public evidence, kept current by LISTEN evidence_changed (a trigger NOTIFYs on every change,
/// whichever instance or tool made it). Null while the database cannot be heard: then nothing may be served from cache.
/// </summary>
/// <remarks>
/// A connection can hang instead of closing (a network partition, a stopped server process): the socket stays open,
/// so nothing fails, and no notification arrives either. A quiet listener therefore asks the database every
/// <see cref="HeartbeatInterval"/>, and a watchdog forgets the version once nothing has been heard for
/// <see cref="SilenceLimit"/>, whatever the listener is stuck in. Readers of <see cref="Current"/> pay nothing for this.
/// </remarks>
public sealed partial class DataVersion(ListenerDataSource listener, NpgsqlDataSource primary, ILogger<DataVersion> logger) : BackgroundService
{
    public const string Channel = "evidence_changed";

    /// <summary>How long a quiet listener waits before asking the database whether it is still there.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// An instance that has heard nothing from the database (no notification, no answer to a heartbeat) for this long
    /// serves nothing from cache until it hears again. With the watchdog's tick, the cache stops within 2.75 s.
    /// </summary>
    public static readonly TimeSpan SilenceLimit = TimeSpan.FromSeconds(2.5);

    private static readonly TimeSpan WatchdogTick = TimeSpan.FromMilliseconds(250);

    private long current;
    private long heardAt = Environment.TickCount64;

    /// <summary>The current version, or null when unknown.</summary>
    public long? Current => Interlocked.Read(ref current) is > 0 and var version ? version : null;

    /// <summary>
    /// Reads the version now; writers call it after they commit so that their next read is fresh at once. It only moves
    /// a version the listener vouches for: a read through another connection says nothing about the listener's.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await primary.OpenConnectionAsync(cancellationToken);
        MoveTo(await ReadAsync(connection, cancellationToken), vouched: false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var watchdog = WatchAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested
                && ex is NpgsqlException or InvalidOperationException or TimeoutException or IOException or OperationCanceledException)
            {
                Interlocked.Exchange(ref current, 0);
                LogListenerDown(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await watchdog;
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        await using var connection = await listener.Source.OpenConnectionAsync(stoppingToken);
        connection.Notification += (_, e) =>
        {
            Heard();
            if (long.TryParse(e.Payload, System.Globalization.CultureInfo.InvariantCulture, out var version))
            {
                MoveTo(version, vouched: false);
            }
        };

        // Every exchange with the server, the first included, must end within the silence limit: a hung socket
        // fails this connection, and the loop above opens a new one.
        using (var start = Within(SilenceLimit, stoppingToken))
        {
            await connection.ExecuteAsync(new CommandDefinition($"LISTEN {Channel}", cancellationToken: start.Token));

            // Listen first, then read: a change between the two is heard, not missed.
            await HeartbeatAsync(connection, start.Token);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            using var cycle = Within(HeartbeatInterval + SilenceLimit, stoppingToken);
            if (!await connection.WaitAsync(HeartbeatInterval, cycle.Token))
            {
                await HeartbeatAsync(connection, cycle.Token);
            }
        }
    }

    private async Task HeartbeatAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var version = await ReadAsync(connection, cancellationToken);
        Heard();
        MoveTo(version, vouched: true);
    }

    /// <summary>Forgets the version once the database has been silent too long, whatever the listener is waiting for.</summary>
    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(WatchdogTick);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var served = Interlocked.Read(ref current);
                var silence = TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref heardAt));
                if (served != 0 && silence > SilenceLimit && Interlocked.CompareExchange(ref current, 0, served) == served)
                {
                    LogSilence(logger, silence.TotalSeconds);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Heard() => Interlocked.Exchange(ref heardAt, Environment.TickCount64);

    private static CancellationTokenSource Within(TimeSpan limit, CancellationToken stoppingToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        source.CancelAfter(limit);
        return source;
    }

    private static Task<long> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT version FROM data_version WHERE id = 1", cancellationToken: cancellationToken));

    /// <summary>
    /// Versions only move forward, whatever order notifications and reads arrive in. Only the listener's own read of
    /// the version (<paramref name="vouched"/>) may turn the cache back on after it was turned off.
    /// </summary>
    private void MoveTo(long version, bool vouched)
    {
        long seen;
        do
        {
            seen = Interlocked.Read(ref current);
            if (version <= seen || (seen == 0 && !vouched))
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref current, version, seen) != seen);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not listening for evidence changes; reads bypass the cache until the database answers again")]
    private static partial void LogListenerDown(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heard nothing from the database for {Seconds:F1} s; reads bypass the cache until it answers again")]
    private static partial void LogSilence(ILogger logger, double seconds);
}
