using System.Text.Json;
using EvidenceApi.Querying;
using EvidenceApi.Vocabularies;
using FluentValidation;

namespace EvidenceApi.Http;

/// <summary>Rules shared by every validator whose input mirrors the evidence vocabulary.</summary>
public static class ValidationRules
{
    /// <summary>Error keys follow the JSON path of the field (<c>outcomes[1].value</c>), not C# names.</summary>
    public static void UseJsonPropertyNames()
    {
        ValidatorOptions.Global.PropertyNameResolver = (_, member, expression) =>
        {
            // A rule on a member chain (r => r.Relapse.Occurred) keeps every segment: relapse.occurred.
            var chain = expression is null ? null : FluentValidation.Internal.PropertyChain.FromExpression(expression).ToString();
            if (!string.IsNullOrEmpty(chain))
            {
                return string.Join('.', chain.Split('.').Select(JsonNamingPolicy.CamelCase.ConvertName));
            }

            return member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
        };
        // FluentValidation asks for the display name of every rule on every validation: made once per member.
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) =>
            member is null ? null : DisplayNames.GetOrAdd(member.Name, CamelCase);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> DisplayNames = new(StringComparer.Ordinal);
    private static readonly Func<string, string> CamelCase = JsonNamingPolicy.CamelCase.ConvertName;

    /// <summary>The value must be one of <paramref name="allowed"/>; the message lists them.</summary>
    public static IRuleBuilderOptions<T, string?> OneOf<T>(this IRuleBuilder<T, string?> rule, IReadOnlyList<string> allowed) =>
        rule.NotEmpty()
            .Must(value => value is null || allowed.Contains(value))
            .WithMessage((_, value) => $"'{value}' is not allowed. Allowed values: {Vocabulary.Describe(allowed)}.");

    /// <summary>A score must lie on its instrument's scale (PASI 0-72, BSA 0-100 %, DLQI 0-30, PGA 0 to its declared top).</summary>
    public static IRuleBuilderOptionsConditions<T, decimal?> InstrumentScore<T>(
        this IRuleBuilder<T, decimal?> rule, Func<T, string?> measure, Func<T, decimal?> scaleMax) =>
        rule.Custom((value, context) =>
        {
            if (value is null || measure(context.InstanceToValidate) is not { } code)
            {
                return;
            }

            if (Vocabulary.ScoreRange(code) is var (min, max) && (value < min || value > max))
            {
                context.AddFailure($"A {code.ToUpperInvariant()} score must be between {min} and {max}.");
            }
            else if (Vocabulary.HasDeclaredScale(code))
            {
                var top = scaleMax(context.InstanceToValidate);
                if (top is null)
                {
                    context.AddFailure($"A {code.ToUpperInvariant()} score needs its scale: set scaleMax (for example 4 or 5).");
                }
                else if (value < 0 || value > top)
                {
                    context.AddFailure($"A {code.ToUpperInvariant()} score must be between 0 and its scale maximum {top}.");
                }
            }
        });
}

public static class QueryValidationRules
{
    /// <summary>Every comma-separated value must be in the vocabulary; the message lists the allowed ones.</summary>
    public static IRuleBuilderOptions<T, string?> InVocabulary<T>(this IRuleBuilder<T, string?> rule, IReadOnlyList<string> allowed) =>
        rule.Must(value => Paging.SplitList(value)?.All(allowed.Contains) ?? true)
            .WithMessage((_, value) =>
                $"'{string.Join(",", Paging.SplitList(value)?.Where(v => !allowed.Contains(v)) ?? [])}' is not allowed. Allowed values: {Vocabulary.Describe(allowed)}.");
}
