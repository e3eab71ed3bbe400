using System.Text.Json;
using EvidenceApi.Tests.Infrastructure;

namespace EvidenceApi.Tests.Contract;

/// <summary>The served document passes Spectral's recommended OpenAPI ruleset (spectral:oas) with no error and no warning.</summary>
public sealed class OpenApiLintTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    [Fact]
    public async Task ServedDocument_HasNoSpectralErrorOrWarning()
    {
        var bin = await NodeTool.InstallAsync("spectral");
        var folder = Directory.CreateTempSubdirectory("evidence-openapi-lint-");
        try
        {
            var document = Path.Combine(folder.FullName, "openapi.json");
            await File.WriteAllTextAsync(document, await api.CreateClient().GetStringAsync("/swagger/v1/swagger.json"));
            var ruleset = Path.Combine(AppContext.BaseDirectory, "Tools", "spectral", ".spectral.yaml");
            var report = Path.Combine(folder.FullName, "spectral.json");

            var (exit, output) = await NodeTool.RunAsync(
                Path.Combine(bin, "spectral"),
                ["lint", document, "--ruleset", ruleset, "--format", "json", "--output", report, "--fail-severity", "hint"],
                folder.FullName,
                TimeSpan.FromMinutes(5));

            Assert.True(File.Exists(report), $"Spectral wrote no report ({exit}):\n{output}");
            var findings = JsonDocument.Parse(await File.ReadAllTextAsync(report)).RootElement.EnumerateArray()
                .Where(f => f.GetProperty("severity").GetInt32() <= 1)
                .Select(f => $"{f.GetProperty("code").GetString()} at {string.Join('.', f.GetProperty("path").EnumerateArray())}: {f.GetProperty("message").GetString()}")
                .ToList();
            Assert.True(findings.Count == 0, "Spectral (spectral:oas) reports:\n" + string.Join("\n", findings));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
