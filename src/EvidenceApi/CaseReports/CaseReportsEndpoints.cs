using System.Security.Claims;
using EvidenceApi.ApiKeys;
using EvidenceApi.Observability;
using EvidenceApi.OpenApi;
using EvidenceApi.Submissions;
using EvidenceApi.Vocabularies;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace EvidenceApi.CaseReports;

public static class CaseReportsEndpoints
{
    public const string IdempotencyHeader = "Idempotency-Key";

    public static RouteGroupBuilder MapCaseReports(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/case-reports").WithTags("Case reports");
        group.MapPost("/", Submit)
            .WithName("SubmitCaseReport")
            .WithSummary("Submit a case report for curation")
            .WithDescription("Needs a contributor (or curator) key in X-Api-Key. The report is validated strictly: every error is " +
                             "reported at once, keyed by JSON path (patients[1].outcomes[0].value). A report describes one patient (patient, " +
                             "outcomes, relapse) or 1 to 50 patients (patients, each with their own outcomes and relapse), not both. An accepted report is stored whole, with status submitted, " +
                             "until a curator publishes it as a study. Send an Idempotency-Key header to retry safely.")
            .RequireAuthorization(ApiKeyDefaults.ContributorPolicy)
            .RequireRateLimiting(Http.Protection.WritesPolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .AcceptsJson<CaseReport>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return group;
    }

    /// <param name="request">The HTTP request; its body is the case report.</param>
    /// <param name="idempotencyKey">Any unique string (e.g. a UUID) per report; a retry with the same key and body returns the original answer.</param>
    /// <param name="user">The authenticated caller.</param>
    /// <param name="validator">Case report rules.</param>
    /// <param name="dataSource">The evidence database.</param>
    /// <param name="titleChecks">The search for studies with near-identical titles.</param>
    /// <param name="metrics">Counts submissions by outcome.</param>
    /// <param name="cancellationToken">Cancelled when the client goes away.</param>
    private static async Task<Results<Created<SubmissionView>, ValidationProblem, ProblemHttpResult>> Submit(
        HttpRequest request,
        [FromHeader(Name = IdempotencyHeader)] string? idempotencyKey,
        ClaimsPrincipal user,
        IValidator<CaseReport> validator,
        NpgsqlDataSource dataSource,
        DuplicateTitleChecks titleChecks,
        EvidenceMetrics metrics,
        CancellationToken cancellationToken)
    {
        if (idempotencyKey is { Length: 0 or > 200 })
        {
            metrics.RecordSubmission(SubmissionOutcome.Rejected);
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { [IdempotencyHeader] = ["The Idempotency-Key header must be 1 to 200 characters."] },
                title: "The request is not valid.");
        }

        var (report, hash, problem) = await CaseReportJson.ReadAsync(request, cancellationToken);
        if (problem is not null)
        {
            metrics.RecordSubmission(SubmissionOutcome.Rejected);
            return problem;
        }

        var validation = await validator.ValidateAsync(report!, cancellationToken);
        if (!validation.IsValid)
        {
            metrics.RecordSubmission(SubmissionOutcome.Rejected);
            return TypedResults.ValidationProblem(
                validation.ToDictionary(),
                title: "The case report is not valid.",
                detail: "See errors: each key is the JSON path of a field at fault.");
        }

        // A subtype given by a synonym is stored, and answered, as its code.
        if (report!.Patient is { ConditionSubtype: not null } patient)
        {
            report = report with { Patient = patient with { ConditionSubtype = Vocabulary.CanonicalSubtype(patient.Condition, patient.ConditionSubtype) } };
        }

        if (report.Patients is { } patients)
        {
            report = report with
            {
                Patients = patients.Select(p => p with { ConditionSubtype = Vocabulary.CanonicalSubtype(p.Condition, p.ConditionSubtype) }).ToList(),
            };
        }

        var result = await CaseReportSubmission.SubmitAsync(dataSource, titleChecks, report, hash!, idempotencyKey, Caller.From(user), cancellationToken);
        metrics.RecordSubmission(result switch
        {
            SubmitResult.Created => SubmissionOutcome.Accepted,
            SubmitResult.Replayed => SubmissionOutcome.Replayed,
            SubmitResult.KeyReused => SubmissionOutcome.KeyReused,
            _ => SubmissionOutcome.Duplicate,
        });
        return result switch
        {
            SubmitResult.Created created => TypedResults.Created($"/v1/submissions/{created.Submission.Id}", created.Submission),
            SubmitResult.Replayed replayed => TypedResults.Created($"/v1/submissions/{replayed.Submission.Id}", replayed.Submission),
            SubmitResult.KeyReused reused => TypedResults.Problem(
                statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "The Idempotency-Key was already used for another report.",
                detail: $"Submission {reused.SubmissionId} was stored under this key with a different body. Use a new key for a new report."),
            SubmitResult.DuplicateStudy duplicate => Conflict(
                $"A study with this {duplicate.Field.ToUpperInvariant()} ({duplicate.Value}) is already in the database.",
                $"/v1/studies/{duplicate.StudyId}"),
            SubmitResult.DuplicateSubmission duplicate => Conflict(
                $"A submission with this {duplicate.Field.ToUpperInvariant()} ({duplicate.Value}) is already waiting for or past moderation.",
                $"/v1/submissions/{duplicate.SubmissionId}"),
            _ => throw new InvalidOperationException($"Unexpected result {result}."),
        };
    }

    private static ProblemHttpResult Conflict(string detail, string existing) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "This case report is already known.",
        detail: detail,
        extensions: new Dictionary<string, object?> { ["existing"] = existing });
}
