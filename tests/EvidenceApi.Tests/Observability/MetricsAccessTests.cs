using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EvidenceApi.Observability;
using EvidenceApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace EvidenceApi.Tests.Observability;

/// <summary>/metrics is an operator's endpoint: only allowed client addresses may scrape it, and it can be switched off.</summary>
public sealed class MetricsAccessTests
{
    private static IReadOnlyList<IPNetwork> Networks(string list) => MetricsEndpoint.ParseNetworks(list, NullLogger.Instance);

    /// <summary>A client whose connections come from <paramref name="localAddress"/> (any 127.x.y.z is this machine).</summary>
    private static HttpClient ClientFrom(IPAddress localAddress, Uri baseAddress) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(localAddress, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = baseAddress };

    [Theory]
    [InlineData("127.0.0.0/8, ::1", "127.0.0.1", true)]
    [InlineData("127.0.0.0/8, ::1", "::1", true)]
    [InlineData("127.0.0.0/8, ::1", "::ffff:127.0.0.1", true)]
    [InlineData("127.0.0.0/8, ::1", "10.1.2.3", false)]
    [InlineData("10.0.0.0/8,192.168.1.7", "192.168.1.7", true)]
    [InlineData("10.0.0.0/8,192.168.1.7", "192.168.1.8", false)]
    [InlineData("fd00::/8", "fd12::5", true)]
    [InlineData("0.0.0.0/0, ::/0", "203.0.113.9", true)]
    [InlineData("", "127.0.0.1", false)]
    public void AllowedAddresses_AcceptAddressesAndNetworks(string list, string client, bool allowed) =>
        Assert.Equal(allowed, MetricsEndpoint.IsAllowed(IPAddress.Parse(client), Networks(list)));

    [Fact]
    public void AllowedAddresses_WithAnEntryThatIsNoAddress_LeaveItOutAndKeepTheRest()
    {
        var networks = Networks("localhost, 10.0.0.0/33, 127.0.0.1");

        Assert.Single(networks);
        Assert.True(MetricsEndpoint.IsAllowed(IPAddress.Loopback, networks));
        Assert.False(MetricsEndpoint.IsAllowed(null, networks));
    }

    [Fact]
    public async Task Scrape_FromAnAddressNotAllowed_Is403_AndFromAnAllowedOneIsServed()
    {
        var connectionString = await TestPostgres.CreateSeededDatabaseAsync();
        using var api = ApiProcess.Start(connectionString, environment: new Dictionary<string, string>
        {
            ["Observability__Metrics__AllowedAddresses"] = "10.0.0.0/8, 127.0.0.2",
        });
        await api.WaitUntilReadyAsync();

        using var allowed = ClientFrom(IPAddress.Parse("127.0.0.2"), api.Client.BaseAddress!);
        await PrometheusScrape.FromAsync(allowed);

        using var other = ClientFrom(IPAddress.Parse("127.0.0.3"), api.Client.BaseAddress!);
        var problem = await (await other.GetAsync("/metrics")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("AllowedAddresses", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await (await api.Client.GetAsync("/metrics")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Scrape_SwitchedOff_Is404()
    {
        await using var api = new SwitchedOff();
        await api.InitializeAsync();

        await (await api.CreateClient().GetAsync("/metrics")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task OpenApiDocument_LeavesOutTheOperatorsEndpoint()
    {
        await using var api = new EvidenceApiFactory();
        await api.InitializeAsync();

        var document = await (await api.CreateClient().GetAsync("/swagger/v1/swagger.json")).ShouldBeOkAsync<JsonElement>();

        Assert.False(document.GetProperty("paths").TryGetProperty(MetricsEndpoint.Path, out _));
    }

    private sealed class SwitchedOff : EvidenceApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Observability:Metrics:Enabled", "false");
        }
    }
}
