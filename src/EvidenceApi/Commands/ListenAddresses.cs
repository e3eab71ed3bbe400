using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;

namespace EvidenceApi.Commands;

/// <summary>Finds out before anything else starts whether the API can listen where it is told to.</summary>
public static class ListenAddresses
{
    /// <summary>
    /// Before migrating and seeding: throws a <see cref="StartupException"/> (exit code 2) naming the fix when a port the API
    /// is to listen on is taken, rather than failing later with the host's stack trace. Only for serving on Kestrel (not
    /// for commands, nor for the tests' in-memory server).
    /// </summary>
    public static void EnsureFree(WebApplication app, EvidenceCommand command)
    {
        if (command.CommandName is not null
            || app.Services.GetRequiredService<IServer>().GetType().Assembly.GetName().Name != "Microsoft.AspNetCore.Server.Kestrel.Core")
        {
            return;
        }

        var urls = app.Configuration["urls"] ?? "http://127.0.0.1:5080";
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kestrel's wildcards (http://*:80, http://+:80) are not URI hosts.
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || !IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && !uri.IsLoopback)
            {
                continue;
            }

            try
            {
                using var listener = new TcpListener(address ?? IPAddress.Loopback, uri.Port);
                listener.Start();
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                throw new StartupException(
                    $"Port {uri.Port} is already in use, so the API cannot listen on {url}. Stop what listens there (perhaps the API " +
                    "started earlier: check with ss -ltnp), or listen elsewhere: urls=http://127.0.0.1:5081 dotnet run --project src/EvidenceApi",
                    exitCode: 2);
            }
        }
    }
}
