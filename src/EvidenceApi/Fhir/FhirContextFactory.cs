using Dapper;
using EvidenceApi.Caching;
using EvidenceApi.Database;
using EvidenceApi.Vocabularies;
using Npgsql;

namespace EvidenceApi.Fhir;

/// <summary>
/// Makes the context of a FHIR answer: the request's FHIR base, and the data version with its time and the vocabularies,
/// read once per data version (the facade is read-only and these change only with the version).
/// </summary>
public sealed class FhirContextFactory(ReadDataSource reads, DataVersion dataVersion)
{
    private VersionState? state;

    public static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}/fhir";

    public Task<FhirContext> CreateAsync(HttpRequest request, CancellationToken cancellationToken) =>
        CreateAsync(BaseUrl(request), cancellationToken);

    public async Task<FhirContext> CreateAsync(string baseUrl, CancellationToken cancellationToken)
    {
        var known = state;
        if (known is null || dataVersion.Current is not { } current || current != known.Version)
        {
            known = await LoadAsync(reads.Source, cancellationToken);
            if (dataVersion.Current == known.Version)
            {
                state = known;
            }
        }

        return new FhirContext(baseUrl, known.Version, known.Time, known.Vocabularies);
    }

    private static async Task<VersionState> LoadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        // The version first: vocabularies read after it are at least as new, never older than the version they are stamped with.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var (version, time) = await connection.QuerySingleAsync<(long, DateTime)>(new CommandDefinition(
            "SELECT version, changed_at FROM data_version WHERE id = 1", cancellationToken: cancellationToken));
        var vocabularies = await VocabulariesEndpoints.LoadAsync(dataSource, cancellationToken);
        return new VersionState(version, new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)), vocabularies);
    }

    private sealed record VersionState(long Version, DateTimeOffset Time, Vocabularies.Vocabularies Vocabularies);
}
