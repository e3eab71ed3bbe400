using System.Diagnostics.CodeAnalysis;
using EvidenceApi.Http;
using EvidenceApi.Querying;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace EvidenceApi.ApiKeys;

/// <summary>An API key as curators and operators see it. The key itself is never shown again after it is issued.</summary>
public record ApiKeyView
{
    /// <example>7</example>
    public long Id { get; init; }

    /// <summary>Who the key is for.</summary>
    /// <example>Dr. Contributor</example>
    public required string Name { get; init; }

    /// <summary><c>contributor</c> (submits case reports) or <c>curator</c> (also moderates and manages contributor keys).</summary>
    /// <example>contributor</example>
    public required string Role { get; init; }

    /// <summary>The first characters of the key, so that its holder can tell which key it is.</summary>
    /// <example>ek_con_x7Q</example>
    public required string Prefix { get; init; }

    /// <example>2026-01-05T09:30:00+00:00</example>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the key stops working; null when it does not expire.</summary>
    /// <example>2026-04-05T09:30:00+00:00</example>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>When the key was last used for a request that needs a key (recorded at most once a minute); null if never.</summary>
    /// <example>2026-01-12T14:02:00+00:00</example>
    public DateTimeOffset? LastUsedAt { get; init; }

    /// <summary>When the key was revoked; null while it is not.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary><c>active</c>, <c>expired</c> or <c>revoked</c>. Only an active key is accepted.</summary>
    /// <example>active</example>
    public required string Status { get; init; }
}

/// <summary>A key just issued: the only answer that holds the key itself. Store it safely; only its hash is kept.</summary>
public sealed record IssuedApiKey : ApiKeyView
{
    [SetsRequiredMembers]
    public IssuedApiKey(ApiKeyView view)
        : base(view)
    {
        Key = "";
    }

    /// <summary>The key, to send in the X-Api-Key header. Shown only now.</summary>
    /// <example>ek_con_x7Q2m9VvK1pT0aLq3sYbZf8RkD4uHnWc6eJgI5oXyA</example>
    public string Key { get; init; }
}

/// <summary>One change of a key, in the audit trail.</summary>
public sealed record ApiKeyEvent
{
    /// <example>12</example>
    public long Id { get; init; }

    /// <summary>The key that changed.</summary>
    /// <example>7</example>
    public long KeyId { get; init; }

    /// <summary><c>created</c> or <c>revoked</c>.</summary>
    /// <example>created</example>
    public required string Action { get; init; }

    /// <summary>The curator key that made the change over HTTP; null for a command run on the server.</summary>
    /// <example>1</example>
    public long? ActorKeyId { get; init; }

    /// <summary>Who made the change: the curator's key, or the user and machine that ran the command.</summary>
    /// <example>curator key 1 (Jane Curator)</example>
    public required string Actor { get; init; }

    /// <summary>The key's role, name and expiry at the change.</summary>
    /// <example>contributor key "Dr. Contributor", expires 2026-04-05 09:30 UTC</example>
    public required string Detail { get; init; }

    /// <summary>Why, when one was given.</summary>
    /// <example>Left the project</example>
    public string? Reason { get; init; }

    /// <example>2026-01-05T09:30:00+00:00</example>
    public DateTimeOffset At { get; init; }
}

/// <summary>A contributor key to issue.</summary>
public sealed record NewApiKey
{
    /// <summary>Who the key is for (1 to 200 characters).</summary>
    /// <example>Dr. Contributor</example>
    public string? Name { get; init; }

    /// <summary>Days until the key stops working (1 to 3650); omit for a key that does not expire.</summary>
    /// <example>90</example>
    public int? ExpiresInDays { get; init; }
}

/// <summary>Why a key is revoked.</summary>
public sealed record RevokeApiKey
{
    /// <summary>Optional; recorded in the audit trail.</summary>
    /// <example>Left the project</example>
    public string? Reason { get; init; }
}

public sealed class NewApiKeyValidator : AbstractValidator<NewApiKey>
{
    public NewApiKeyValidator()
    {
        RuleFor(k => k.Name).NotEmpty().WithMessage("Name whom the key is for.");
        RuleFor(k => k.Name).MaximumLength(200).WithMessage("The name is 1 to 200 characters.");
        RuleFor(k => k.ExpiresInDays).InclusiveBetween(1, 3650).WithMessage("expiresInDays is between 1 and 3650; omit it for a key that does not expire.");
    }
}

public sealed class RevokeApiKeyValidator : AbstractValidator<RevokeApiKey>
{
    public RevokeApiKeyValidator() => RuleFor(r => r.Reason).MaximumLength(2000);
}

/// <summary>Filters and paging of <c>GET /v1/keys</c>.</summary>
public sealed record ApiKeyListQuery : PageQuery
{
    public static readonly IReadOnlyList<string> Statuses = ["active", "expired", "revoked"];

    /// <summary>Role(s), comma-separated: contributor, curator.</summary>
    /// <example>contributor</example>
    [FromQuery(Name = "role")]
    public string? Role { get; init; }

    /// <summary>Status(es), comma-separated: active, expired, revoked.</summary>
    /// <example>active</example>
    [FromQuery(Name = "status")]
    public string? Status { get; init; }
}

public sealed class ApiKeyListQueryValidator : AbstractValidator<ApiKeyListQuery>
{
    public ApiKeyListQueryValidator()
    {
        RuleFor(q => q.Role).InVocabulary(ApiKeyDefaults.Roles);
        RuleFor(q => q.Status).InVocabulary(ApiKeyListQuery.Statuses);
        Include(new PageQueryValidator());
        RuleFor(q => q.Format).NotEqual("csv").WithMessage("Keys are JSON only.");
    }
}

/// <summary>Filters and paging of <c>GET /v1/keys/events</c>.</summary>
public sealed record ApiKeyEventQuery : PageQuery
{
    /// <summary>Only the changes of this key.</summary>
    /// <example>7</example>
    [FromQuery(Name = "keyId")]
    public long? KeyId { get; init; }
}

public sealed class ApiKeyEventQueryValidator : AbstractValidator<ApiKeyEventQuery>
{
    public ApiKeyEventQueryValidator()
    {
        RuleFor(q => q.KeyId).GreaterThan(0);
        Include(new PageQueryValidator());
        RuleFor(q => q.Format).NotEqual("csv").WithMessage("The audit trail is JSON only.");
    }
}
