// A client of EvidenceApi written against the C# client Kiota generates from the served OpenAPI document (into
// Client/, never edited). Run by GeneratedClientTests with: BASE_URL API_KEY EXAMPLE_FILE. Prints what it did, one
// "name=value" a line, for the test to check against the API.
using EvidenceClient;
using EvidenceClient.Models;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary;

var (baseUrl, apiKey, exampleFile) = (args[0], args[1], args[2]);
// Kiota's own API key provider insists on https; the key goes in a default header of Kiota's HttpClient instead.
var http = KiotaClientFactory.Create();
http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
var adapter = new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http) { BaseUrl = baseUrl };
var client = new EvidenceApiClient(adapter);

// Every study, page by page, following the cursor of each page.
var ids = new List<long>();
string? cursor = null;
long? total = null;
var pages = 0;
do
{
    var page = await client.V1.Studies.GetAsync(request =>
    {
        request.QueryParameters.Limit = 3;
        request.QueryParameters.Sort = "id";
        request.QueryParameters.Cursor = cursor;
    }) ?? throw new InvalidOperationException("No page.");
    pages++;
    total ??= page.Total;
    ids.AddRange(page.Items!.Select(study => study.Id ?? throw new InvalidOperationException("A study without an id.")));
    cursor = page.Next;
}
while (cursor is not null);

Console.WriteLine($"pages={pages}");
Console.WriteLine($"total={total}");
Console.WriteLine($"ids={string.Join(',', ids)}");

// One study, with its interventions and outcomes.
var study = await client.V1.Studies["srivastava-2024-scalp-secretome"].GetAsync() ?? throw new InvalidOperationException("No study.");
Console.WriteLine($"study={study.Key}");
Console.WriteLine($"studyOutcomes={study.Outcomes?.Count}");

// The document's example case report, submitted as a contributor.
var example = await KiotaJsonSerializer.DeserializeAsync(await File.ReadAllTextAsync(exampleFile), CaseReport.CreateFromDiscriminatorValue)
    ?? throw new InvalidOperationException("The example is no case report.");
var submitted = await client.V1.CaseReports.PostAsync(example) ?? throw new InvalidOperationException("No submission.");
Console.WriteLine($"submission={submitted.Id}");
Console.WriteLine($"submissionStatus={submitted.Status}");
Console.WriteLine($"submissionSubtype={submitted.Report?.Patients?[0].ConditionSubtype}");
Console.WriteLine($"submissionPatients={submitted.Report?.Patients?.Count}");
Console.WriteLine($"submissionOutcomes={submitted.Report?.Patients?.Sum(p => p.Outcomes?.Count ?? 0)}");
