using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using FluentValidation;
using FluentValidation.Internal;
using FluentValidation.Validators;

namespace EvidenceApi.Http;

/// <summary>
/// What a validator enforces on one field whatever the rest of the input says: its unconditional rules, read from the
/// validator itself so that the OpenAPI document and the JSON shape messages state the limits the validator applies.
/// Rules with a condition, and rules written as code (Must, Custom), depend on other fields and are not stated here.
/// </summary>
public sealed class FieldRule
{
    public bool Required { get; set; }

    public decimal? Minimum { get; set; }

    public decimal? Maximum { get; set; }

    public bool ExclusiveMinimum { get; set; }

    public bool ExclusiveMaximum { get; set; }

    public int? MinLength { get; set; }

    public int? MaxLength { get; set; }

    public int? MinItems { get; set; }

    public int? MaxItems { get; set; }

    /// <summary>The allowed values (one of them, or a comma-separated list of them when <see cref="IsList"/>).</summary>
    public IReadOnlyList<string>? Allowed { get; set; }

    public bool IsList { get; set; }

    public string? Pattern { get; set; }

    public bool Email { get; set; }

    /// <summary>The one value accepted (informedConsent: true).</summary>
    public object? Const { get; set; }

    /// <summary>The validator of the field's object, or of each item of its list.</summary>
    public IValidator? Child { get; set; }

    /// <summary>The rules of each item of the field's list (RuleForEach).</summary>
    public FieldRule? Items { get; set; }
}

public static class FieldRules
{
    private static readonly ConditionalWeakTable<IValidator, IReadOnlyDictionary<string, FieldRule>> ByValidator = [];

    /// <summary>The rules of each field of <paramref name="validator"/>'s type, keyed by JSON name; read once per validator.</summary>
    public static IReadOnlyDictionary<string, FieldRule> Of(IValidator validator) => ByValidator.GetValue(validator, Read);

    /// <summary>Every validator reachable from <paramref name="validators"/> through child validators, by the type it validates.</summary>
    public static IReadOnlyDictionary<Type, IValidator> Reachable(IEnumerable<IValidator> validators)
    {
        var found = new Dictionary<Type, IValidator>();
        var pending = new Stack<IValidator>(validators);
        while (pending.TryPop(out var validator))
        {
            var type = ValidatedType(validator);
            if (type is null || !found.TryAdd(type, validator))
            {
                continue;
            }

            foreach (var rule in Of(validator).Values)
            {
                if (rule.Child is { } child)
                {
                    pending.Push(child);
                }

                if (rule.Items?.Child is { } itemChild)
                {
                    pending.Push(itemChild);
                }
            }
        }

        return found;
    }

    private static Type? ValidatedType(IValidator validator) =>
        validator.GetType().GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IValidator<>))?.GetGenericArguments()[0];

    private static Dictionary<string, FieldRule> Read(IValidator validator)
    {
        var fields = new Dictionary<string, FieldRule>(StringComparer.Ordinal);
        foreach (var rule in validator.CreateDescriptor().Rules)
        {
            if (rule is IIncludeRule)
            {
                foreach (var component in rule.Components)
                {
                    if (ChildOf(component.Validator) is { } included)
                    {
                        foreach (var (includedName, field) in Of(included))
                        {
                            Merge(fields, includedName, field);
                        }
                    }
                }

                continue;
            }

            if (rule.PropertyName is null || rule.PropertyName.Contains('.', StringComparison.Ordinal))
            {
                continue;
            }

            var name = JsonNamingPolicy.CamelCase.ConvertName(rule.PropertyName);
            // RuleForEach: the rule's components apply to each item (the rule type is internal to FluentValidation).
            var isEach = rule.GetType().Name.StartsWith("CollectionPropertyRule", StringComparison.Ordinal);
            var target = new FieldRule();
            foreach (var component in rule.Components)
            {
                Apply(target, component, ElementType(rule, isEach));
            }

            Merge(fields, name, isEach ? new FieldRule { Items = target } : target);
        }

        return fields;
    }

    /// <summary>The type each component checks: the field's, or for RuleForEach its items' (the rule's second type argument).</summary>
    private static Type ElementType(IValidationRule rule, bool isEach) =>
        isEach && rule.GetType().GetGenericArguments() is [_, var element] ? element : rule.TypeToValidate;

    private static void Apply(FieldRule target, IRuleComponent component, Type type)
    {
        var validator = component.Validator;
        if (ChildOf(validator) is { } child)
        {
            // Structure, not a limit: the child's own rules say what holds.
            target.Child = child;
            return;
        }

        if (component.HasCondition || component.HasAsyncCondition)
        {
            return;
        }

        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        var isText = underlying == typeof(string);
        var isList = !isText && typeof(System.Collections.IEnumerable).IsAssignableFrom(underlying);
        switch (validator)
        {
            case INotNullValidator:
                target.Required = true;
                break;
            case INotEmptyValidator:
                target.Required = true;
                if (isText)
                {
                    target.MinLength = Math.Max(target.MinLength ?? 0, 1);
                }
                else if (isList)
                {
                    target.MinItems = Math.Max(target.MinItems ?? 0, 1);
                }

                break;
            case ILengthValidator length:
                if (length.Min > 0)
                {
                    target.MinLength = length.Min;
                }

                if (length.Max > 0)
                {
                    target.MaxLength = length.Max;
                }

                break;
            case IBetweenValidator between when validator.Name == "InclusiveBetweenValidator":
                target.Minimum = Convert.ToDecimal(between.From, System.Globalization.CultureInfo.InvariantCulture);
                target.Maximum = Convert.ToDecimal(between.To, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case IComparisonValidator { ValueToCompare: { } value, MemberToCompare: null } comparison:
                ApplyComparison(target, comparison.Comparison, value);
                break;
            case IRegularExpressionValidator regex:
                target.Pattern = regex.Expression;
                break;
            case IEmailValidator:
                target.Email = true;
                break;
            default:
                ApplyOwn(target, validator);
                break;
        }
    }

    private static void ApplyComparison(FieldRule target, Comparison comparison, object value)
    {
        if (comparison == Comparison.Equal)
        {
            target.Const = value;
            target.Required = true;
            return;
        }

        if (value is not (int or long or decimal or double))
        {
            return;
        }

        var number = Convert.ToDecimal(value, System.Globalization.CultureInfo.InvariantCulture);
        switch (comparison)
        {
            case Comparison.GreaterThan:
                (target.Minimum, target.ExclusiveMinimum) = (number, true);
                break;
            case Comparison.GreaterThanOrEqual:
                (target.Minimum, target.ExclusiveMinimum) = (number, false);
                break;
            case Comparison.LessThan:
                (target.Maximum, target.ExclusiveMaximum) = (number, true);
                break;
            case Comparison.LessThanOrEqual:
                (target.Maximum, target.ExclusiveMaximum) = (number, false);
                break;
        }
    }

    /// <summary>The project's own rule types, which keep their limits for this purpose.</summary>
    private static void ApplyOwn(FieldRule target, IPropertyValidator validator)
    {
        var type = validator.GetType();
        if (!type.IsGenericType)
        {
            return;
        }

        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(AllowedValuesValidator<>) || definition == typeof(ConditionSubtypeValidator<>))
        {
            target.Allowed = (IReadOnlyList<string>?)type.GetProperty("Allowed")?.GetValue(validator);
            target.IsList = type.GetProperty("IsList")?.GetValue(validator) is true;
        }
        else if (definition == typeof(MaxItemsValidator<,>))
        {
            target.MaxItems = (int?)type.GetProperty("Max")?.GetValue(validator);
        }
    }

    /// <summary>The validator a child adaptor (SetValidator, ChildRules, Include) runs, when it is one fixed object.</summary>
    private static IValidator? ChildOf(IPropertyValidator validator)
    {
        if (validator is not IChildValidatorAdaptor)
        {
            return null;
        }

        // An adaptor made with a validator instance hands it out whatever it is asked with (it asks for a context, so it
        // gets one of a blank parent); one made with a factory would build its validator for that blank parent, which
        // is why the validators the document describes take no factories.
        var adaptor = validator.GetType();
        if (adaptor.GetMethod("GetValidator", BindingFlags.Public | BindingFlags.Instance) is not { } getValidator
            || getValidator.GetParameters() is not [{ ParameterType: var contextType }, _]
            || contextType.GetGenericArguments() is not [var parentType])
        {
            return null;
        }

        try
        {
            var blank = RuntimeHelpers.GetUninitializedObject(parentType);
            var context = Activator.CreateInstance(contextType, blank);
            return getValidator.Invoke(validator, [context, null]) as IValidator;
        }
        catch (TargetInvocationException)
        {
            return null;
        }
    }

    private static void Merge(Dictionary<string, FieldRule> fields, string name, FieldRule add)
    {
        if (!fields.TryGetValue(name, out var field))
        {
            fields[name] = add;
            return;
        }

        field.Required |= add.Required;
        field.Minimum = Tighter(field.Minimum, add.Minimum, Math.Max);
        field.Maximum = Tighter(field.Maximum, add.Maximum, Math.Min);
        field.ExclusiveMinimum |= add.ExclusiveMinimum;
        field.ExclusiveMaximum |= add.ExclusiveMaximum;
        field.MinLength = Tighter(field.MinLength, add.MinLength, Math.Max);
        field.MaxLength = Tighter(field.MaxLength, add.MaxLength, Math.Min);
        field.MinItems = Tighter(field.MinItems, add.MinItems, Math.Max);
        field.MaxItems = Tighter(field.MaxItems, add.MaxItems, Math.Min);
        field.Allowed ??= add.Allowed;
        field.IsList |= add.IsList;
        field.Pattern ??= add.Pattern;
        field.Email |= add.Email;
        field.Const ??= add.Const;
        field.Child ??= add.Child;
        if (add.Items is not null)
        {
            if (field.Items is null)
            {
                field.Items = add.Items;
            }
            else
            {
                var items = new Dictionary<string, FieldRule> { ["items"] = field.Items };
                Merge(items, "items", add.Items);
            }
        }
    }

    private static T? Tighter<T>(T? current, T? added, Func<T, T, T> pick)
        where T : struct => current is null ? added : added is null ? current : pick(current.Value, added.Value);
}
