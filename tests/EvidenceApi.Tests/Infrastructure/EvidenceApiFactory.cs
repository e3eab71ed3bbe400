using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace EvidenceApi.Tests.Infrastructure;

/// <summary>
/// The API over its real HTTP pipeline, against a database of its own copied from the seeded template.
/// Shared by the tests of one class (IClassFixture).
/// </summary>
public class EvidenceApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public virtual async Task InitializeAsync() => ConnectionString = await TestPostgres.CreateSeededDatabaseAsync();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Evidence", ConnectionString);
        builder.UseSetting("Database:SeedOnStartup", "false");
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
