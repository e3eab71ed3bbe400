using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace EvidenceApi.Tests.Infrastructure;

public static class TestApi
{
    /// <summary>The API over its real HTTP pipeline against <paramref name="connectionString"/>, with extra settings (name, value).</summary>
    public static WebApplicationFactory<Program> For(string connectionString, params (string Name, string Value)[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:Evidence", connectionString);
            builder.UseSetting("Database:SeedOnStartup", "false");
            foreach (var (name, value) in settings)
            {
                builder.UseSetting(name, value);
            }
        });
}
