using Dapper;
using EvidenceApi.Querying;
using EvidenceApi.Studies;
using EvidenceApi.Tests.Infrastructure;
using Npgsql;

namespace EvidenceApi.Tests.Querying;

public sealed class ConcurrentPagingTests(EvidenceApiFactory api) : IClassFixture<EvidenceApiFactory>
{
    [Theory]
    [InlineData("id")]
    [InlineData("-year")]
    [InlineData("title")]
    public async Task CursorPaging_WhileStudiesAreInserted_LosesAndRepeatsNothing(string sort)
    {
        var client = api.CreateClient();
        await using var dataSource = NpgsqlDataSource.Create(api.ConnectionString);
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            // Enough studies for many pages.
            await connection.ExecuteAsync("""
                INSERT INTO studies (key, title, design, condition)
                SELECT 'paging-' || @Sort || '-' || g, 'Paging study ' || md5(g::text), 'case_report', 'pagingitis'
                FROM generate_series(1, 60) g
                """, new { Sort = sort.TrimStart('-') });
        }

        var existing = (await (await client.GetAsync($"/v1/studies?condition=pagingitis&limit=200&sort={sort}")).ShouldBeOkAsync<Page<StudySummary>>())
            .Items.Select(s => s.Id).ToHashSet();

        // Between every two pages, new studies land both before and after the cursor position.
        var inserted = 0;
        async Task InsertAsync()
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            foreach (var prefix in new[] { "A", "Z" })
            {
                var n = ++inserted;
                await connection.ExecuteAsync(
                    "INSERT INTO studies (key, title, design, condition, participants) VALUES (@Key, @Title, 'case_report', 'pagingitis', @Participants)",
                    new { Key = $"paging-new-{sort.TrimStart('-')}-{n}", Title = $"{prefix} inserted {n}", Participants = n % 2 == 0 ? 1 : 500 });
            }
        }

        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await (await client.GetAsync($"/v1/studies?condition=pagingitis&limit=7&sort={sort}&includeTotal=false"
                + (cursor is null ? "" : $"&cursor={cursor}"))).ShouldBeOkAsync<Page<StudySummary>>();
            seen.AddRange(page.Items.Select(s => s.Id));
            cursor = page.Next;
            pages++;
            await InsertAsync();
        }
        while (cursor is not null && pages < 500);

        Assert.True(inserted >= 10, "Studies should have been inserted between pages");
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Subset(seen.ToHashSet(), existing);
    }
}
