using System.Net;
using System.Net.Sockets;

namespace EvidenceApi.Tests.Resilience;

/// <summary>
/// A TCP proxy in front of a database that can stop forwarding at any moment while keeping every connection open, and
/// then also accepts new connections without ever answering them: a database that is there but never answers. With no
/// upstream at all it is a black hole from the start.
/// </summary>
public sealed class StallingProxy : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint? upstream;
    private readonly CancellationTokenSource closing = new();
    private readonly TaskCompletionSource stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<TcpClient> connections = [];

    public StallingProxy(IPEndPoint? upstream)
    {
        this.upstream = upstream;
        listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>From now on nothing more is forwarded, in either direction, on any connection.</summary>
    public void Stall() => stalled.TrySetResult();

    public void Dispose()
    {
        closing.Cancel();
        listener.Stop();
        lock (connections)
        {
            connections.ForEach(c => c.Dispose());
        }

        closing.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(closing.Token);
                lock (connections)
                {
                    connections.Add(client);
                }

                if (upstream is not null && !stalled.Task.IsCompleted)
                {
                    _ = ForwardAsync(client, upstream);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Closing.
        }
    }

    private async Task ForwardAsync(TcpClient client, IPEndPoint target)
    {
        var server = new TcpClient();
        lock (connections)
        {
            connections.Add(server);
        }

        try
        {
            await server.ConnectAsync(target, closing.Token);
            await Task.WhenAny(PumpAsync(client.GetStream(), server.GetStream()), PumpAsync(server.GetStream(), client.GetStream()));
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
        {
            // Closing.
        }
    }

    private async Task PumpAsync(Stream from, Stream to)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReadAsync(buffer, closing.Token);
            if (read == 0 || stalled.Task.IsCompleted)
            {
                // Closed, or stalled: what arrives is kept back, and the connection stays open until the proxy goes.
                await (read == 0 ? Task.CompletedTask : Task.Delay(Timeout.Infinite, closing.Token));
                return;
            }

            await to.WriteAsync(buffer.AsMemory(0, read), closing.Token);
        }
    }
}
