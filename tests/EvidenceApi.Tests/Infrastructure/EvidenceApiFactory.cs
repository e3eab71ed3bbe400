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

    /// <summary>Creates an API key with <paramref name="role"/> in this factory's database.</summary>
    public async Task<string> CreateKeyAsync(string role, string? name = null)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(ConnectionString);
        return await EvidenceApi.ApiKeys.ApiKeyStore.CreateAsync(dataSource, role, name ?? $"test {role}");
    }

    /// <summary>Loads extra seed files (JSON texts by file name) into this factory's database.</summary>
    public async Task SeedAsync(IReadOnlyDictionary<string, string> files)
    {
        var directory = Path.Combine(Path.GetTempPath(), "evidence-extra-seeds", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            foreach (var (name, json) in files)
            {
                await File.WriteAllTextAsync(Path.Combine(directory, name), json);
            }

            await using var dataSource = Npgsql.NpgsqlDataSource.Create(ConnectionString);
            await new EvidenceApi.Seeding.SeedLoader(dataSource).LoadAsync(directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A client that sends <paramref name="apiKey"/> in X-Api-Key.</summary>
    public HttpClient CreateClient(string apiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    public async Task<T> QueryScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        return await Dapper.SqlMapper.ExecuteScalarAsync<T>(connection, sql, parameters) ?? throw new InvalidOperationException($"No value from: {sql}");
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
