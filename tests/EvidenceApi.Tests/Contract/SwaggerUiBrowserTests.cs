using EvidenceApi.Tests.Infrastructure;
using Microsoft.Playwright;

namespace EvidenceApi.Tests.Contract;

/// <summary>
/// Swagger UI in a real browser: Debian's Chromium driven by Playwright (no browser of Playwright's own), against the
/// API running as it is deployed. Screenshots are saved under TestResults/ in the test output folder.
/// </summary>
public sealed class SwaggerUiBrowserTests
{
    public const string ChromiumPath = "/usr/bin/chromium";

    [ChromiumFact]
    public async Task SwaggerUi_AuthorizedContributor_RunsThePostExampleAndAFilteredGet()
    {
        var (api, connectionString, key) = await ApiProcess.StartSeededAsync("contributor");
        using var _ = api;

        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 2000 } });
        // Generous waits: the machine may be busy; each wait ends as soon as its condition holds.
        page.SetDefaultTimeout(60_000);
        Assertions.SetDefaultExpectTimeout(60_000);
        var screenshots = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "TestResults"));

        await page.GotoAsync($"{api.Client.BaseAddress}swagger/index.html");
        await page.Locator(".auth-wrapper button.authorize").ClickAsync();
        var dialog = page.Locator(".dialog-ux");
        await dialog.Locator("input").First.FillAsync(key);
        await dialog.Locator("button.authorize").ClickAsync();
        await Assertions.Expect(dialog).ToContainTextAsync("Authorized");
        await dialog.Locator("button.btn-done").ClickAsync();
        await Assertions.Expect(page.Locator(".auth-wrapper button.authorize.locked")).ToBeVisibleAsync();

        // The submit operation, with the document's example as its body: 201.
        var submit = page.Locator("#operations-Case_reports-SubmitCaseReport");
        await submit.Locator(".opblock-summary").ClickAsync();
        await submit.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();
        var submitStatus = submit.Locator(".live-responses-table tbody .response-col_status").First;
        await Assertions.Expect(submitStatus).ToHaveTextAsync("201");
        await Assertions.Expect(submit.Locator(".live-responses-table tbody .response-col_description")).ToContainTextAsync("\"status\": \"submitted\"");
        await submit.ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(screenshots.FullName, "swagger-ui-submit.png") });

        // A filtered list: case reports only.
        var list = page.Locator("#operations-Studies-ListStudies");
        await list.Locator(".opblock-summary").ClickAsync();
        // Try-it-out fills every parameter with its example; together they match nothing, so only design is kept.
        foreach (var input in await list.Locator("tr[data-param-name] input[type='text'], tr[data-param-name] input:not([type])").AllAsync())
        {
            await input.FillAsync("");
        }

        foreach (var select in await list.Locator("tr[data-param-name] select").AllAsync())
        {
            await select.SelectOptionAsync(new SelectOptionValue { Index = 0 });
        }

        await list.Locator("tr[data-param-name='design'] input").FillAsync("case_report");
        await list.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();
        await Assertions.Expect(list.Locator(".live-responses-table tbody .response-col_status").First).ToHaveTextAsync("200");
        var body = list.Locator(".live-responses-table tbody .response-col_description");
        await Assertions.Expect(body).ToContainTextAsync("\"design\": \"case_report\"");
        await Assertions.Expect(body).Not.ToContainTextAsync("\"design\": \"rct\"");
        await Assertions.Expect(list.Locator(".request-url")).ToContainTextAsync("design=case_report");
        await list.ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(screenshots.FullName, "swagger-ui-filtered-list.png") });

        Assert.Equal(1L, await QueryAsync(connectionString, "SELECT count(*) FROM submissions"));
    }

    private static async Task<long> QueryAsync(string connectionString, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>
/// A test that needs Debian's Chromium. Without it the test is skipped, saying why, on a developer's machine; under
/// CI (CI=true) it runs and fails, since CI installs Chromium.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!File.Exists(SwaggerUiBrowserTests.ChromiumPath)
            && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = $"Chromium is not installed at {SwaggerUiBrowserTests.ChromiumPath} (apt-get install chromium); CI installs it and runs this test.";
        }
    }
}
