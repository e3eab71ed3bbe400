using System.Text.RegularExpressions;
using EvidenceApi.Studies;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace EvidenceApi.Http;

/// <summary>Turns every exception into RFC 9457 problem details; nothing internal reaches the client.</summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away (or the request timed out, which answers by itself): its query was cancelled, nobody to answer.
            return true;
        }

        var problem = exception switch
        {
            BadHttpRequestException bad => BadRequest(bad),
            CursorMismatchException => Invalid("cursor", "The cursor does not belong to this query: pass the next value of a previous page with the same sort."),
            PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } => Unavailable(httpContext, "The query took too long and was stopped."),
            NpgsqlException or TimeoutException when IsDatabaseUnavailable(exception) => Unavailable(httpContext, "The evidence database is not available."),
            _ => null,
        };

        if (problem is null)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred.",
                Detail = "The error was logged. Please try again, or report it with the traceId.",
            };
        }
        else if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            LogDatabaseUnavailable(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        if (httpContext.Request.Path.StartsWithSegments("/fhir"))
        {
            // FHIR clients read errors as an OperationOutcome.
            await Fhir.FhirErrors.Outcome(httpContext.Response.StatusCode, new Fhir.FhirErrors.Issue(
                httpContext.Response.StatusCode >= 500 ? Hl7.Fhir.Model.OperationOutcome.IssueType.Exception : Hl7.Fhir.Model.OperationOutcome.IssueType.Invalid,
                $"{problem.Title} {problem.Detail}".Trim())).ExecuteAsync(httpContext);
            return true;
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static ProblemDetails BadRequest(BadHttpRequestException exception)
    {
        if (BindingFailure().Match(exception.Message) is { Success: true } binding)
        {
            return Invalid(QueryName(binding.Groups["name"].Value), $"'{binding.Groups["value"].Value}' is not a valid {Describe(binding.Groups["type"].Value)}.");
        }

        if (MissingParameter().Match(exception.Message) is { Success: true } missing)
        {
            return Invalid(QueryName(missing.Groups["name"].Value), "This parameter is required.");
        }

        return new ProblemDetails
        {
            Status = exception.StatusCode,
            Title = exception.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is too large." : "The request is not valid.",
            Detail = exception.Message,
        };
    }

    private static string QueryName(string name) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(name);

    private static string Describe(string type) => NullableWrapper().Replace(type, "$1").TrimEnd('?') switch
    {
        "int" or "long" or "Int32" or "Int64" => "whole number",
        "decimal" or "double" or "Decimal" or "Double" => "number",
        "bool" or "Boolean" => "boolean (true or false)",
        var other => other,
    };

    [GeneratedRegex("^Nullable<(.+)>$")]
    private static partial Regex NullableWrapper();

    private static HttpValidationProblemDetails Invalid(string name, string message) => new(new Dictionary<string, string[]> { [name] = [message] })
    {
        Status = StatusCodes.Status400BadRequest,
        Title = "The request is not valid.",
        Detail = "See errors: each key names the parameter or field at fault.",
    };

    private static ProblemDetails Unavailable(HttpContext httpContext, string title)
    {
        httpContext.Response.Headers.RetryAfter = "5";
        return new ProblemDetails
        {
            Status = StatusCodes.Status503ServiceUnavailable,
            Title = title,
            Detail = "Please retry in a few seconds.",
        };
    }

    private static bool IsDatabaseUnavailable(Exception exception) =>
        exception is TimeoutException or NpgsqlException { IsTransient: true }
        || exception.InnerException is System.Net.Sockets.SocketException or IOException or TimeoutException;

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unavailable for {Method} {Path}")]
    private static partial void LogDatabaseUnavailable(ILogger logger, Exception exception, string method, PathString path);

    [GeneratedRegex("""^Failed to bind parameter "(?<type>[^"]+) (?<name>[^" ]+)" from "(?<value>.*)"\.$""", RegexOptions.Singleline)]
    private static partial Regex BindingFailure();

    [GeneratedRegex("""^Required parameter "(?<type>[^"]+) (?<name>[^" ]+)" was not provided""")]
    private static partial Regex MissingParameter();
}
