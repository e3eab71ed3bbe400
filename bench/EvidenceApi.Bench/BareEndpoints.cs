using Dapper;
using Npgsql;

namespace EvidenceApi.Bench;

/// <summary>
/// The baseline for "cache off": the same rows as our endpoints, fetched with one bare Dapper query each and
/// serialized as they come, with no validation, problem details, paging cursors or caching.
/// </summary>
public static class BareEndpoints
{
    private const string StudyById = """
        SELECT s.id, s.key, s.title, s.design, s.status, s.condition, s.condition_subtype, s.country, s.participants,
               s.age_min, s.age_max, s.age_mean, s.male_count, s.female_count, s.population_description,
               s.follow_up_weeks, s.summary, src.title AS source_title, src.authors, src.journal, src.year, src.doi, src.pmid, src.url
        FROM studies s LEFT JOIN sources src ON src.id = s.source_id WHERE s.id = @Id;
        SELECT * FROM interventions WHERE study_id = @Id ORDER BY id;
        SELECT * FROM outcomes WHERE study_id = @Id ORDER BY timepoint_weeks NULLS LAST, id;
        """;

    private const string Page = """
        SELECT s.id, s.key, s.title, s.design, s.status, s.condition, s.condition_subtype, s.country, s.participants,
               s.follow_up_weeks, src.year, src.journal, src.doi, src.pmid
        FROM studies s LEFT JOIN sources src ON src.id = s.source_id
        WHERE s.condition = @Condition AND s.design = @Design
        ORDER BY coalesce(s.participants, -1) DESC, s.id DESC
        LIMIT 20
        """;

    private const string Outcomes = "SELECT * FROM outcomes WHERE study_id = @StudyId ORDER BY id";

    public static async Task<int> RunAsync(string connectionString, string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var app = builder.Build();

        app.MapGet("/bare/studies/{id:long}", async (long id) =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var grid = await connection.QueryMultipleAsync(StudyById, new { Id = id });
            var study = (await grid.ReadAsync()).Select(ToDictionary).SingleOrDefault();
            if (study is null)
            {
                return Results.NotFound();
            }

            study["interventions"] = (await grid.ReadAsync()).Select(ToDictionary).ToList();
            study["outcomes"] = (await grid.ReadAsync()).Select(ToDictionary).ToList();
            return Results.Ok(study);
        });
        app.MapGet("/bare/studies", async (string condition, string design) =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            return Results.Ok((await connection.QueryAsync(Page, new { Condition = condition, Design = design })).Select(ToDictionary).ToList());
        });
        app.MapGet("/bare/outcomes", async (long studyId) =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            return Results.Ok((await connection.QueryAsync(Outcomes, new { StudyId = studyId })).Select(ToDictionary).ToList());
        });

        await app.RunAsync();
        return 0;
    }

    private static Dictionary<string, object?> ToDictionary(dynamic row) =>
        new((IDictionary<string, object?>)row);
}
