using System.Security.Cryptography;
using System.Text.Json;
using EvidenceApi.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EvidenceApi.CaseReports;

/// <summary>Reads a case report from a request body (see <see cref="JsonBody"/>) and hashes it for idempotency.</summary>
public static class CaseReportJson
{
    public const int MaxBodyBytes = 256 * 1024;

    public static readonly JsonBodyKind Kind = new("case report", MaxBodyBytes);

    public static JsonSerializerOptions Options => JsonBody.Options;

    /// <summary>The parsed report with the SHA-256 of its canonical form, or the problem to answer.</summary>
    public static async Task<CaseReportBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (report, problem) = await JsonBody.ReadAsync<CaseReport>(request, Kind, cancellationToken);
        if (report is null)
        {
            return new(null, null, problem);
        }

        // Hash the canonical form, so that retries differing only in whitespace or key order count as the same request.
        var hash = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(report, Options)));
        return new(report, hash, null);
    }
}

/// <summary>A request body read as a case report: the report and its hash, or the problem to answer.</summary>
public sealed record CaseReportBody(CaseReport? Report, string? Hash, ProblemHttpResult? Problem);
