using Dapper;
using EvidenceApi.Commands;
using EvidenceApi.Observability;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace EvidenceApi.Database;

/// <summary>Settings under <c>Database</c> in configuration.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Where the embedded cluster lives when no connection string is set (default: <c>.data/</c> at the repository root).</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Folder with initdb, pg_ctl and postgres; found automatically when empty.</summary>
    public string? PostgresBinDirectory { get; set; }

    /// <summary>Apply pending migrations at start-up (default true).</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>Load <c>seeds/</c> at start-up; on by default for the embedded database only.</summary>
    public bool? SeedOnStartup { get; set; }

    /// <summary>Longest a single statement may run on the server (default 10 s), so one slow query cannot pile up the rest.</summary>
    public int StatementTimeoutSeconds { get; set; } = 10;

    /// <summary>Longest an aggregate over the whole evidence (stats, synthesis) may run (default 60 s); its answer is cached.</summary>
    public int AnalyticalStatementTimeoutSeconds { get; set; } = 60;

    /// <summary>Longest to wait for a connection to the server (default 3 s), so a database that is down answers quickly.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 3;

    /// <summary>
    /// How many statements each connection keeps prepared on the server (default 256; 0 turns it off). A statement
    /// run more than once is planned once: planning costs the server more than running most of the API's queries.
    /// A <c>Max Auto Prepare</c> in the connection string takes precedence.
    /// </summary>
    public int PreparedStatementsPerConnection { get; set; } = 256;

    /// <summary>
    /// Let PostgreSQL compile costly queries to machine code (default false). Measured at a million studies, compiling
    /// took 1.5 s of a 1.9 s synthesis query: the API's queries run too briefly to earn the compilation back.
    /// </summary>
    public bool ServerJit { get; set; }
}

/// <summary>Where public reads go: a hot standby when replicas are configured, else the one database.</summary>
/// <param name="Source">The data source for reads.</param>
/// <param name="HasReplicas">True when reads may be served by a standby that lags behind the primary.</param>
public sealed record ReadDataSource(NpgsqlDataSource Source, bool HasReplicas);

/// <summary>The data sources of the API: the primary for writes, the one for reads, and the change listener's.</summary>
public sealed record EvidenceDataSources(NpgsqlDataSource Primary, ReadDataSource Reads, ListenerDataSource Listener);

/// <summary>
/// The connection that listens for data changes (on the primary): unpooled, so nothing of it outlives a failure, and named
/// (<see cref="ApplicationName"/>) so that it can be told apart in <c>pg_stat_activity</c>.
/// </summary>
public sealed class ListenerDataSource(NpgsqlDataSource source) : IAsyncDisposable
{
    public const string ApplicationName = "EvidenceApi change listener";

    public NpgsqlDataSource Source { get; } = source;

    public ValueTask DisposeAsync() => Source.DisposeAsync();
}

public static class EvidenceDatabase
{
    public const string ConnectionStringName = "Evidence";

    /// <summary>
    /// Uses <c>ConnectionStrings:Evidence</c> when set; otherwise starts (or joins) the embedded PostgreSQL and points the
    /// connection string at it. Returns the embedded server, if used, as soon as its port is known: it comes up in the
    /// background (<see cref="WaitForEmbeddedAsync"/>). A failure is a <see cref="StartupException"/>: one paragraph that
    /// names the fix.
    /// </summary>
    public static async Task<EmbeddedPostgres?> StartEmbeddedIfUnconfiguredAsync(IConfiguration configuration, Action<string> log)
    {
        if (!string.IsNullOrWhiteSpace(configuration.GetConnectionString(ConnectionStringName)))
        {
            return null;
        }

        var options = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var binaries = EmbeddedPostgres.FindServerBinaries(options.PostgresBinDirectory)
            ?? throw new StartupException(
                (options.PostgresBinDirectory is { Length: > 0 } configured
                    ? $"Database__PostgresBinDirectory is {configured}, which does not hold initdb, pg_ctl and postgres.\n"
                    : "") +
                """
                No database is configured and no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found.
                Either install PostgreSQL (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql)
                and run again, set Database__PostgresBinDirectory to the folder holding them, or point the API at a
                running server: ConnectionStrings__Evidence="Host=localhost;Username=...;Password=...;Database=evidence".
                """,
                exitCode: 2);

        var dataDirectory = await EmbeddedClusterLocation.ResolveAsync(options.DataDirectory, log);
        EmbeddedPostgres server;
        try
        {
            server = await EmbeddedPostgres.BeginStartAsync(binaries, dataDirectory, durable: true, log);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or NpgsqlException)
        {
            throw CannotStart(dataDirectory, ex);
        }

        configuration[$"ConnectionStrings:{ConnectionStringName}"] = server.ConnectionString();
        return server;
    }

    /// <summary>Waits until the embedded server (if any) is up; its failure becomes a <see cref="StartupException"/> naming the fix.</summary>
    public static async Task WaitForEmbeddedAsync(EmbeddedPostgres? server)
    {
        try
        {
            await (server?.Ready ?? Task.CompletedTask);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or NpgsqlException)
        {
            throw CannotStart(server!.RootDirectory, ex);
        }
    }

    private static StartupException CannotStart(string dataDirectory, Exception ex) => new(
        $"The embedded PostgreSQL in {dataDirectory} could not be started: {ex.Message} " +
        "Set Database__DataDirectory to another folder to start a new cluster there, or point the API at your own server " +
        "with ConnectionStrings__Evidence.",
        exitCode: ex is IOException or UnauthorizedAccessException ? 2 : 1,
        ex);

    /// <summary>The data sources and the readiness check; with the embedded server, also its supervisor.</summary>
    public static IServiceCollection AddEvidenceDatabase(this IServiceCollection services, EmbeddedPostgres? embedded)
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        services.AddSingleton(provider => Build(provider));
        services.AddSingleton(provider => provider.GetRequiredService<EvidenceDataSources>().Primary);
        services.AddSingleton(provider => provider.GetRequiredService<EvidenceDataSources>().Reads);
        services.AddSingleton(provider => provider.GetRequiredService<EvidenceDataSources>().Listener);
        var checks = services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        if (embedded is not null)
        {
            services.AddSingleton(embedded);
            services.AddSingleton<EmbeddedPostgresSupervisor>();
            services.AddHostedService(provider => provider.GetRequiredService<EmbeddedPostgresSupervisor>());
            checks.Add(new HealthCheckRegistration(
                "embedded-postgres", provider => provider.GetRequiredService<EmbeddedPostgresSupervisor>(), HealthStatus.Unhealthy, ["ready"]));
        }

        return services;
    }

    /// <summary>The readiness answer: <c>Healthy</c>, or <c>Unhealthy</c> followed by the reasons, one per line.</summary>
    public static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        var reasons = report.Entries.Values.Where(e => e.Status != HealthStatus.Healthy).Select(e => e.Description).OfType<string>().Distinct();
        return context.Response.WriteAsync(string.Join('\n', new[] { report.Status.ToString() }.Concat(reasons)));
    }

    /// <summary>
    /// One host: one data source for everything. Several hosts (<c>Host=primary,replica1,replica2</c>): Npgsql's multi-host
    /// data source, writes to the primary and reads preferring a hot standby (falling back to the primary when none answers).
    /// </summary>
    private static EvidenceDataSources Build(IServiceProvider provider)
    {
        var connectionString = provider.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionStringName} is not set.");
        var options = provider.GetRequiredService<IConfiguration>().GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var loggerFactory = provider.GetRequiredService<ILoggerFactory>();
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        ApplyConnectionSettings(builder.ConnectionStringBuilder, options);
        builder.UseLoggerFactory(loggerFactory);
        builder.ConfigureTracing(ObservabilitySetup.TraceCommandsWithinOperations);

        var listenerBuilder = new NpgsqlDataSourceBuilder(connectionString);
        ApplyConnectionSettings(listenerBuilder.ConnectionStringBuilder, options);
        listenerBuilder.ConnectionStringBuilder.ApplicationName = ListenerDataSource.ApplicationName;
        listenerBuilder.ConnectionStringBuilder.Pooling = false;
        listenerBuilder.UseLoggerFactory(loggerFactory);
        listenerBuilder.ConfigureTracing(ObservabilitySetup.TraceCommandsWithinOperations);

        if (builder.ConnectionStringBuilder.Host?.Contains(',', StringComparison.Ordinal) != true)
        {
            var single = builder.Build();
            return new EvidenceDataSources(single, new ReadDataSource(single, HasReplicas: false), new ListenerDataSource(listenerBuilder.Build()));
        }

        var hosts = builder.BuildMultiHost();
        return new EvidenceDataSources(
            hosts.WithTargetSession(TargetSessionAttributes.Primary),
            new ReadDataSource(hosts.WithTargetSession(TargetSessionAttributes.PreferStandby), HasReplicas: true),
            new ListenerDataSource(listenerBuilder.BuildMultiHost().WithTargetSession(TargetSessionAttributes.Primary)));
    }

    /// <summary>How the API's connections talk to the server: timeouts, statement preparation, no reset, session settings.</summary>
    internal static void ApplyConnectionSettings(NpgsqlConnectionStringBuilder connection, DatabaseOptions options)
    {
        connection.Timeout = options.ConnectTimeoutSeconds;
        connection.CommandTimeout = options.StatementTimeoutSeconds + 5;
        if (connection.MaxAutoPrepare == 0)
        {
            connection.MaxAutoPrepare = options.PreparedStatementsPerConnection;
            connection.AutoPrepareMinUsages = 2;
        }

        // Nothing here leaves state on a session (settings are SET LOCAL, locks are transaction locks), so a pooled
        // connection need not be reset with seven extra statements each time it is borrowed.
        connection.NoResetOnClose = true;
        connection.Options = $"{connection.Options} -c statement_timeout={options.StatementTimeoutSeconds * 1000} -c jit={(options.ServerJit ? "on" : "off")}".Trim();
    }

    /// <summary>
    /// A read-only transaction whose statements may run longer than the default statement timeout: for aggregates over
    /// the whole evidence, which are computed once per data version and then served from the read cache.
    /// </summary>
    public static async Task<(NpgsqlConnection Connection, NpgsqlTransaction Transaction)> BeginAnalyticalAsync(
        NpgsqlDataSource dataSource, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var seconds = (configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions()).AnalyticalStatementTimeoutSeconds;
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            $"SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = {seconds * 1000}", transaction: transaction, cancellationToken: cancellationToken));
        return (connection, transaction);
    }
}

/// <summary>Ready means the database answers a query within the check's time.</summary>
internal sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy("The database answers.");
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("The database does not answer.", ex);
        }
    }
}
