using System.Security.Claims;
using EvidenceApi.ApiKeys;
using EvidenceApi.Caching;
using EvidenceApi.Http;
using EvidenceApi.OpenApi;
using EvidenceApi.Querying;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace EvidenceApi.Submissions;

public static class SubmissionsEndpoints
{
    private static readonly JsonBodyKind DecisionBody = new("moderation decision", 16 * 1024);

    public static RouteGroupBuilder MapSubmissions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/submissions")
            .WithTags("Submissions")
            .RequireAuthorization(ApiKeyDefaults.ContributorPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        group.MapGet("/", List)
            .WithName("ListSubmissions")
            .WithSummary("The moderation queue (curators) or your own submissions (contributors)")
            .WithDescription("Oldest first, filtered by status and paged like every list. Curators see every submission; " +
                             "contributors only those they submitted with their key.")
            .ValidateArguments()
            .ListOf<SubmissionView>(csv: false);

        group.MapGet("/{id:long}", Get)
            .WithName("GetSubmission")
            .WithSummary("One submission with its report and status")
            .WithDescription("Curators see every submission; contributors only their own (others answer 404).")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/{id:long}/events", Events)
            .WithName("GetSubmissionEvents")
            .WithSummary("Every change of state: who, when, from, to and why (curators)")
            .WithDescription("The submission itself is the first event (from null to submitted), then each publish or reject.")
            .RequireAuthorization(ApiKeyDefaults.CuratorPolicy)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/{id:long}/publish", Publish)
            .WithName("PublishSubmission")
            .WithSummary("Publish a submission: it becomes a case-report study in every read endpoint (curators)")
            .WithDescription("Only a submission still submitted can be published; its source, study, interventions and outcomes " +
                             "are written in one transaction. The body is optional: a reason to record with the change.")
            .RequireAuthorization(ApiKeyDefaults.CuratorPolicy)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .RequireRateLimiting(Protection.WritesPolicy)
            .AcceptsJson<ModerationDecision>(optional: true)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        group.MapPost("/{id:long}/reject", Reject)
            .WithName("RejectSubmission")
            .WithSummary("Reject a submission, with a reason (curators)")
            .WithDescription("Only a submission still submitted can be rejected. The reason is required: the contributor reads it.")
            .RequireAuthorization(ApiKeyDefaults.CuratorPolicy)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .RequireRateLimiting(Protection.WritesPolicy)
            .AcceptsJson<ModerationDecision>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        return group;
    }

    private static async Task<Ok<Page<SubmissionView>>> List(
        [AsParameters] SubmissionListQuery query, ClaimsPrincipal user, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        TypedResults.Ok(await SubmissionQueries.ListAsync(dataSource, Caller.From(user), query, cancellationToken));

    /// <param name="id">The submission's id.</param>
    /// <param name="user">The authenticated caller.</param>
    /// <param name="dataSource">The evidence database.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Ok<SubmissionView>, ProblemHttpResult>> Get(
        long id, ClaimsPrincipal user, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var submission = await SubmissionQueries.FindAsync(connection, id, Caller.From(user), cancellationToken);
        return submission is null ? NotFound(id) : TypedResults.Ok(submission);
    }

    /// <param name="id">The submission's id.</param>
    /// <param name="dataSource">The evidence database.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Ok<IReadOnlyList<SubmissionEvent>>, ProblemHttpResult>> Events(
        long id, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var events = await SubmissionQueries.EventsAsync(connection, id, cancellationToken);
        return events.Count == 0 ? NotFound(id) : TypedResults.Ok(events);
    }

    /// <param name="id">The submission to publish.</param>
    /// <param name="request">The HTTP request; its optional body is the decision, whose reason is recorded with the change.</param>
    /// <param name="user">The authenticated caller.</param>
    /// <param name="dataSource">The evidence database.</param>
    /// <param name="dataVersion">Moved on at once, so this instance's next read sees the new study.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Ok<SubmissionView>, ProblemHttpResult>> Publish(
        long id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource dataSource, DataVersion dataVersion, CancellationToken cancellationToken)
    {
        var (decision, problem) = await JsonBody.ReadAsync<ModerationDecision>(request, DecisionBody with { Optional = true }, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (decision?.Reason is { Length: > ModerationDecisionValidator.MaxReason })
        {
            return JsonBody.Invalid(DecisionBody, new Dictionary<string, string[]>
            {
                ["reason"] = [$"The reason may be at most {ModerationDecisionValidator.MaxReason} characters."],
            });
        }

        var result = await SubmissionModeration.PublishAsync(dataSource, id, Caller.From(user), Trimmed(decision?.Reason), cancellationToken);
        if (result is ModerationResult.Done)
        {
            await dataVersion.RefreshAsync(CancellationToken.None);
        }

        return Answer(id, result);
    }

    /// <param name="id">The submission to reject.</param>
    /// <param name="request">The HTTP request; its body is the decision, whose reason is required: the contributor reads it.</param>
    /// <param name="user">The authenticated caller.</param>
    /// <param name="dataSource">The evidence database.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Ok<SubmissionView>, ValidationProblem, ProblemHttpResult>> Reject(
        long id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var (decision, problem) = await JsonBody.ReadAsync<ModerationDecision>(request, DecisionBody, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (Trimmed(decision?.Reason) is not { Length: <= ModerationDecisionValidator.MaxReason } reason)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["reason"] = [$"Give the contributor a reason for the rejection (1 to {ModerationDecisionValidator.MaxReason} characters)."] },
                title: "The request is not valid.");
        }

        return Answer(id, await SubmissionModeration.RejectAsync(dataSource, id, Caller.From(user), reason, cancellationToken)) switch
        {
            { Result: Ok<SubmissionView> ok } => ok,
            { Result: ProblemHttpResult answered } => answered,
            var other => throw new InvalidOperationException($"Unexpected result {other.Result}."),
        };
    }

    private static Results<Ok<SubmissionView>, ProblemHttpResult> Answer(long id, ModerationResult result) => result switch
    {
        ModerationResult.Done done => TypedResults.Ok(done.Submission),
        ModerationResult.NotFound => NotFound(id),
        ModerationResult.WrongState wrong => TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "The submission was already moderated.",
            detail: $"Submission {id} is {wrong.Status}; only a submitted one can be published or rejected."),
        ModerationResult.DuplicateSource duplicate => TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "The submission's source is already in the database.",
            detail: duplicate.Detail),
        _ => throw new InvalidOperationException($"Unexpected result {result}."),
    };

    private static ProblemHttpResult NotFound(long id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Submission not found.",
        detail: $"No submission {id} that your key may see.");

    private static string? Trimmed(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
