using System.Net;

namespace EvidenceApi.Observability;

/// <summary>Settings under <c>Observability:Metrics</c>: the Prometheus scrape endpoint.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Observability:Metrics";

    /// <summary>Serve <c>/metrics</c> (default true). Off, the path is a 404 and nothing collects metrics unless OTLP export is on.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Client addresses and networks that may scrape, comma-separated (<c>127.0.0.1, 10.0.0.0/8, ::1</c>); others get 403.
    /// Default: this machine only. <c>0.0.0.0/0, ::/0</c> allows everyone.
    /// </summary>
    public string AllowedAddresses { get; set; } = "127.0.0.0/8, ::1";
}

/// <summary>The Prometheus scrape endpoint, limited to the configured client addresses.</summary>
public static partial class MetricsEndpoint
{
    public const string Path = "/metrics";

    /// <summary>Maps <c>/metrics</c> when it is enabled. It is an operator's endpoint, so it is left out of the OpenAPI document.</summary>
    public static WebApplication MapEvidenceMetrics(this WebApplication app)
    {
        var options = app.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        if (!options.Enabled)
        {
            return app;
        }

        var allowed = ParseNetworks(options.AllowedAddresses, app.Logger);
        app.MapPrometheusScrapingEndpoint(Path, meterProvider: null, configureBranchedPipeline: branch => branch.Use((context, next) =>
                IsAllowed(context.Connection.RemoteIpAddress, allowed) ? next(context) : Forbidden(context)), optionsName: null)
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>Whether <paramref name="address"/> is in one of <paramref name="networks"/>; an IPv4 client on an IPv6 socket counts as IPv4.</summary>
    public static bool IsAllowed(IPAddress? address, IReadOnlyList<IPNetwork> networks)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Reads a comma-separated list of addresses (<c>10.1.2.3</c>) and networks (<c>10.0.0.0/8</c>). An entry that is neither
    /// is left out with a warning: the list then allows less, never more, than meant.
    /// </summary>
    public static IReadOnlyList<IPNetwork> ParseNetworks(string? list, ILogger logger)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry, out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                LogIgnoredEntry(logger, entry);
            }
        }

        return networks;
    }

    private static Task Forbidden(HttpContext context) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "Metrics are served only to allowed addresses.",
        detail: "Add this client's address or network to Observability:Metrics:AllowedAddresses.").ExecuteAsync(context);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Observability:Metrics:AllowedAddresses: '{Entry}' is neither an IP address nor a network such as 10.0.0.0/8; it allows nothing")]
    private static partial void LogIgnoredEntry(ILogger logger, string entry);
}
