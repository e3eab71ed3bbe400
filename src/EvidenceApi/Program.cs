using System.IO.Compression;
using EvidenceApi.ApiKeys;
using EvidenceApi.Caching;
using EvidenceApi.CaseReports;
using EvidenceApi.Commands;
using EvidenceApi.Database;
using EvidenceApi.Fhir;
using EvidenceApi.Http;
using EvidenceApi.Interventions;
using EvidenceApi.Observability;
using EvidenceApi.OpenApi;
using EvidenceApi.Outcomes;
using EvidenceApi.Seeding;
using EvidenceApi.Stats;
using EvidenceApi.Studies;
using EvidenceApi.Submissions;
using EvidenceApi.Synthesis;
using EvidenceApi.Vocabularies;
using FluentValidation;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.ResponseCompression;

var command = EvidenceCommand.Parse(args);
if (command.ExitCode is { } parsed)
{
    return parsed;
}

// appsettings.json is read from beside the binary, so the API behaves the same from whatever directory it is started.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = command.HostArguments, ContentRootPath = AppContext.BaseDirectory });
builder.WebHost.UseUrls(builder.Configuration["urls"] ?? "http://127.0.0.1:5080");
ValidationRules.UseJsonPropertyNames();
builder.AddEvidenceObservability();

EmbeddedPostgres? embedded;
try
{
    embedded = await EvidenceDatabase.StartEmbeddedIfUnconfiguredAsync(builder.Configuration, Console.WriteLine);
}
catch (StartupException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return ex.ExitCode;
}

builder.Services.AddEvidenceDatabase(embedded);
builder.Services.AddSingleton<SeedLoader>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddApiKeyAuthentication();
// Validators hold no state; building one compiles its rules, far too costly to repeat per request.
builder.Services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Singleton, includeInternalTypes: false);
builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
    context.ProblemDetails.Extensions["traceId"] = context.HttpContext.TraceIdentifier);
builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
builder.Services.Configure<JsonOptions>(options =>
{
    options.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never;
    options.SerializerOptions.TypeInfoResolverChain.Insert(0, EvidenceJsonContext.Default);
});
builder.Services.AddEvidenceOpenApi();
builder.Services.AddProtection(builder.Configuration);
builder.Services.AddResponseCompression(options =>
{
    options.EnableForHttps = true;
    options.MimeTypes = ["application/json", "application/problem+json", "text/csv", "text/plain", "image/svg+xml", FhirJson.ContentType];
});
builder.Services.Configure<BrotliCompressionProviderOptions>(options => options.Level = CompressionLevel.Fastest);
builder.Services.Configure<GzipCompressionProviderOptions>(options => options.Level = CompressionLevel.Fastest);
builder.Services.Configure<ReadCacheOptions>(builder.Configuration.GetSection(ReadCacheOptions.Section));
builder.Services.AddSingleton<DataVersion>();
builder.Services.AddHostedService(provider => provider.GetRequiredService<DataVersion>());
builder.Services.Configure<SubmissionOptions>(builder.Configuration.GetSection(SubmissionOptions.Section));
builder.Services.AddSingleton<DuplicateTitleChecks>();
builder.Services.AddHostedService(provider => provider.GetRequiredService<DuplicateTitleChecks>());
builder.Services.AddSingleton<FhirContextFactory>();
builder.Services.AddSingleton<FhirExportWorker>();
builder.Services.AddHostedService(provider => provider.GetRequiredService<FhirExportWorker>());

var app = builder.Build();
if (embedded is not null)
{
    app.Lifetime.ApplicationStopped.Register(() => embedded.StopAsync().GetAwaiter().GetResult());
}

int? exitCode;
try
{
    ListenAddresses.EnsureFree(app, command);
    await EvidenceDatabase.WaitForEmbeddedAsync(embedded);
    exitCode = await command.RunBeforeServingAsync(app, embedded);
}
catch (StartupException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    exitCode = ex.ExitCode;
}
catch (Exception ex)
{
    // One paragraph, no stack trace: what failed, in the words of whatever failed.
    await Console.Error.WriteLineAsync(command.CommandName is null ? $"EvidenceApi could not start: {ex.Message}" : ex.Message);
    exitCode = 1;
}

if (exitCode is not null)
{
    if (embedded is not null)
    {
        await embedded.StopAsync();
    }

    return exitCode.Value;
}

var protection = app.Configuration.GetSection(ProtectionOptions.Section).Get<ProtectionOptions>() ?? new ProtectionOptions();
app.UseEvidenceTracing();
app.UseHeadAsGet();
app.UseProtectionHeaders(protection);
app.UseResponseCompression();
app.UseRouting();
app.UseMiddleware<QueryParameterCheck>();
app.UseMiddleware<ReadCacheMiddleware>();
app.UseExceptionHandler();
app.UseStatusCodePages();
// The OpenAPI document and Swagger UI live under /swagger; other requests need not pass their middleware.
app.UseWhen(context => context.Request.Path.StartsWithSegments("/swagger"), swagger => swagger.UseEvidenceOpenApi());
app.UseCors(Protection.CorsPolicy);
app.UseRequestTimeouts();
// Limits count before the key is checked: writes without a key (or with a wrong one) are limited per address too,
// instead of each being answered 401 (and a wrong key looked up) without end.
app.UseRateLimiter();
app.UseAuthentication();
app.UseAuthorization();

app.MapGet("/", () => TypedResults.Redirect("/swagger")).ExcludeFromDescription();
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = EvidenceDatabase.WriteHealthAsync });
app.MapEvidenceMetrics();
app.MapStudies();
app.MapInterventions();
app.MapOutcomes();
app.MapVocabularies();
app.MapSynthesis();
app.MapStats();
app.MapCaseReports();
app.MapSubmissions();
app.MapKeys();
app.MapFhir();

// Logged rather than printed, so that with JSON logs every line of output is JSON.
app.Lifetime.ApplicationStarted.Register(() =>
{
    var urls = string.Join(", ", app.Urls);
    var swaggerUi = $"{app.Urls.FirstOrDefault()}/swagger";
    LogServing(app.Logger, urls, swaggerUi);
});
try
{
    await app.RunAsync();
}
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    await Console.Error.WriteLineAsync($"EvidenceApi could not start: {ex.Message} Stop what listens there, or listen elsewhere with urls=http://127.0.0.1:PORT.");
    return 2;
}

return 0;

/// <summary>The entry point, visible to the integration tests.</summary>
public partial class Program
{
    [LoggerMessage(Level = LogLevel.Information, Message = "EvidenceApi is serving on {Urls}; Swagger UI: {SwaggerUi}")]
    private static partial void LogServing(ILogger logger, string urls, string swaggerUi);
}
