using EvidenceApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace EvidenceApi.Tests.Resilience;

/// <summary>Tests that stop, freeze or crash the database: each test gets a seeded cluster of its own and an API over it.</summary>
public abstract class DedicatedClusterTests : IAsyncLifetime
{
    protected DedicatedPostgres Database { get; private set; } = null!;

    protected WebApplicationFactory<Program> Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await DedicatedPostgres.StartAsync(durable: false);
        Api = TestApi.For(Database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Api.DisposeAsync();
        await Database.DisposeAsync();
    }
}
