using Dapper;
using EvidenceApi.Database;
using EvidenceApi.Outcomes;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using Npgsql;

namespace EvidenceApi.Bench;

/// <summary>
/// The baseline for "cache off": our endpoints' own SQL, run with bare Dapper and serialized as the rows come,
/// with no validation, filters, problem details, paging cursors, ETags or caching. The gap to our endpoints is
/// the cost of everything around the query.
/// </summary>
public static class BareEndpoints
{
    public static async Task<int> RunAsync(string connectionString, string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        // The API's own connection settings (statement preparation, no reset on return to the pool, statement timeout,
        // server JIT off), so that only the code differs.
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        EvidenceDatabase.ApplyConnectionSettings(settings, new DatabaseOptions());
        await using var dataSource = NpgsqlDataSource.Create(settings.ConnectionString);
        var app = builder.Build();

        app.MapGet("/bare/studies/{id:long}", async (long id) =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var grid = await connection.QueryMultipleAsync(StudyQueries.OneStudy, new { Id = id });
            var study = (await grid.ReadAsync()).Select(ToDictionary).SingleOrDefault();
            if (study is null)
            {
                return Results.NotFound();
            }

            study["source"] = (await grid.ReadAsync()).Select(ToDictionary).SingleOrDefault();
            study["interventions"] = (await grid.ReadAsync()).Select(ToDictionary).ToList();
            study["outcomes"] = (await grid.ReadAsync()).Select(ToDictionary).ToList();
            study["links"] = (await grid.ReadAsync()).Select(ToDictionary).ToList();
            study["patients"] = (await grid.ReadAsync()).Select(ToDictionary).ToList();
            study["baselineScores"] = (await grid.ReadAsync()).Select(ToDictionary).ToList();
            study["patientOutcomes"] = (await grid.ReadAsync()).Select(ToDictionary).ToList();
            return Results.Ok(study);
        });
        app.MapGet("/bare/studies", async (string condition, string design) =>
        {
            var (sql, parameters) = StudyQueries.ListCommand(
                new EvidenceFilter { Condition = condition, Design = design },
                new StudyListQuery { Sort = "-participants", Limit = 20, IncludeTotal = false }, export: false);
            await using var connection = await dataSource.OpenConnectionAsync();
            return Results.Ok((await connection.QueryAsync(sql, parameters)).Select(ToDictionary).ToList());
        });
        app.MapGet("/bare/outcomes", async (long studyId) =>
        {
            var sql = OutcomesEndpoints.ListSql.Replace("{0}", "WHERE o.study_id = @StudyId", StringComparison.Ordinal).Replace("{1}", "", StringComparison.Ordinal);
            await using var connection = await dataSource.OpenConnectionAsync();
            // The row repeats column names (outcome, study and intervention ids), so it goes out as an array of values.
            return Results.Ok((await connection.QueryAsync(sql, new { StudyId = studyId, Take = 21, Offset = 0 }))
                .Select(row => ((IDictionary<string, object?>)row).Select(p => p.Value).ToArray()).ToList());
        });

        await app.RunAsync();
        return 0;
    }

    private static Dictionary<string, object?> ToDictionary(dynamic row) =>
        new((IDictionary<string, object?>)row);
}
