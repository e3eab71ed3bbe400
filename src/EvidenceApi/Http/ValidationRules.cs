using System.Text.Json;
using EvidenceApi.Querying;
using EvidenceApi.Vocabularies;
using FluentValidation;
using FluentValidation.Validators;

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
        rule.NotEmpty().SetValidator(new AllowedValuesValidator<T>(allowed));

    /// <summary>The value, when given, must be one of <paramref name="allowed"/>.</summary>
    public static IRuleBuilderOptions<T, string?> OptionalOneOf<T>(this IRuleBuilder<T, string?> rule, IReadOnlyList<string> allowed) =>
        rule.SetValidator(new AllowedValuesValidator<T>(allowed));

    /// <summary>A list of at most <paramref name="max"/> items.</summary>
    public static IRuleBuilderOptions<T, IReadOnlyList<TItem>?> MaxItems<T, TItem>(this IRuleBuilder<T, IReadOnlyList<TItem>?> rule, int max) =>
        rule.SetValidator(new MaxItemsValidator<T, TItem>(max));

    /// <summary>
    /// A subtype of the condition <paramref name="condition"/> names (any condition's when it gives none), by its code or a
    /// synonym; the message lists the codes.
    /// </summary>
    public static IRuleBuilderOptions<T, string?> ConditionSubtype<T>(this IRuleBuilder<T, string?> rule, Func<T, string?>? condition) =>
        rule.SetValidator(new ConditionSubtypeValidator<T>(condition));

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
        rule.SetValidator(new AllowedValuesValidator<T>(allowed, list: true));
}

/// <summary>
/// One value (or a comma-separated list of values) of a fixed list. The list is kept with the rule, so that the
/// OpenAPI document can state it (as an enum, or a pattern for a list).
/// </summary>
public sealed class AllowedValuesValidator<T>(IReadOnlyList<string> allowed, bool list = false) : PropertyValidator<T, string?>
{
    public IReadOnlyList<string> Allowed => allowed;

    /// <summary>True when the value is a comma-separated list, each item of which must be allowed.</summary>
    public bool IsList => list;

    public override string Name => "AllowedValuesValidator";

    public override bool IsValid(ValidationContext<T> context, string? value)
    {
        if (value is null)
        {
            return true;
        }

        var unknown = list ? Paging.SplitList(value)?.Where(v => !allowed.Contains(v)).ToList() : allowed.Contains(value) ? null : [value];
        if (unknown is null or { Count: 0 })
        {
            return true;
        }

        context.MessageFormatter.AppendArgument("Unknown", string.Join(",", unknown)).AppendArgument("Allowed", Vocabulary.Describe(allowed));
        return false;
    }

    protected override string GetDefaultMessageTemplate(string errorCode) => "'{Unknown}' is not allowed. Allowed values: {Allowed}.";
}

/// <summary>A list of at most <see cref="Max"/> items; the limit is kept for the OpenAPI document.</summary>
public sealed class MaxItemsValidator<T, TItem>(int max) : PropertyValidator<T, IReadOnlyList<TItem>?>
{
    public int Max => max;

    public override string Name => "MaxItemsValidator";

    public override bool IsValid(ValidationContext<T> context, IReadOnlyList<TItem>? value)
    {
        context.MessageFormatter.AppendArgument("Max", max);
        return value is null || value.Count <= max;
    }

    protected override string GetDefaultMessageTemplate(string errorCode) => "At most {Max} items.";
}

/// <summary>A condition subtype, by code or synonym (see <see cref="Vocabulary.CanonicalSubtype"/>).</summary>
public sealed class ConditionSubtypeValidator<T>(Func<T, string?>? conditionOf) : PropertyValidator<T, string?>
{
    /// <summary>The codes, as the OpenAPI document lists them.</summary>
    public IReadOnlyList<string> Allowed => Vocabulary.SubtypeCodes;

    public override string Name => "ConditionSubtypeValidator";

    public override bool IsValid(ValidationContext<T> context, string? value)
    {
        if (value is null)
        {
            return true;
        }

        var condition = conditionOf?.Invoke(context.InstanceToValidate)?.Trim().ToLowerInvariant();
        if (conditionOf is not null && string.IsNullOrEmpty(condition))
        {
            // Without a condition there is nothing to check the subtype against; the condition's own rule says so.
            return true;
        }

        if (Vocabulary.CanonicalSubtype(condition, value) is not null)
        {
            return true;
        }

        var codes = conditionOf is null ? Vocabulary.SubtypeCodes : Vocabulary.SubtypesOf(condition);
        context.MessageFormatter.AppendArgument("Problem", codes.Count == 0
            ? $"'{value}' is not a subtype of {condition}: no subtypes are defined for {condition}, so leave it out."
            : $"'{value}' is not a subtype of {condition ?? "any condition"}. Allowed values: {Vocabulary.Describe(codes)} " +
              $"(synonyms such as {Vocabulary.ConditionSubtypes.SelectMany(s => s.Synonyms).First()} are accepted).");
        return false;
    }

    protected override string GetDefaultMessageTemplate(string errorCode) => "{Problem}";
}
