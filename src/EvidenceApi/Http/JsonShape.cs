using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;

namespace EvidenceApi.Http;

/// <summary>
/// Checks a JSON document against the shape of a contract type before it is deserialized, so that
/// every unknown property and every value of the wrong JSON type is reported at once, by JSON path,
/// instead of the first one only (or silently dropped).
/// </summary>
public static class JsonShape
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, Type>> PropertiesByType = new();

    /// <summary>
    /// Errors keyed by JSON path (<c>outcomes[1].value</c>; <c>$</c> for the document itself). With the contract's
    /// <paramref name="validator"/>, a number too large for its field names the range the validator allows.
    /// </summary>
    public static Dictionary<string, string[]> Check<T>(JsonElement root, FluentValidation.IValidator? validator = null)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        Visit(root, typeof(T), "", validator is null ? null : new FieldRule { Child = validator }, errors);
        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }

    private static void Visit(JsonElement element, Type type, string path, FieldRule? rule, Dictionary<string, List<string>> errors)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        var problem = type switch
        {
            _ when type == typeof(string) => element.ValueKind != JsonValueKind.String ? "must be a string"
                : element.GetString()!.Contains('\0', StringComparison.Ordinal) ? "must not contain NUL characters" : null,
            _ when type == typeof(bool) => element.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "must be true or false",
            _ when type == typeof(int) => element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out _) ? null
                : OutOfRange(element, whole: true, int.MinValue, int.MaxValue, rule) ?? "must be a whole number",
            _ when type == typeof(long) => element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out _) ? null
                : OutOfRange(element, whole: true, long.MinValue, long.MaxValue, rule) ?? "must be a whole number",
            _ when type == typeof(decimal) => element.ValueKind == JsonValueKind.Number && element.TryGetDecimal(out _) ? null
                : OutOfRange(element, whole: false, decimal.MinValue, decimal.MaxValue, rule) ?? "must be a number",
            _ when type == typeof(DateOnly) => element.ValueKind == JsonValueKind.String
                && DateOnly.TryParseExact(element.GetString(), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _)
                    ? null : "must be a date written YYYY-MM-DD",
            _ when ListItemType(type) is not null => element.ValueKind == JsonValueKind.Array ? null : "must be an array",
            _ => element.ValueKind == JsonValueKind.Object ? null : "must be an object",
        };

        if (problem is not null)
        {
            Add(errors, path, $"The value {problem}.");
            return;
        }

        if (ListItemType(type) is { } itemType)
        {
            var index = 0;
            var itemRule = rule?.Items ?? (rule?.Child is null ? null : new FieldRule { Child = rule.Child });
            foreach (var item in element.EnumerateArray())
            {
                Visit(item, itemType, $"{path}[{index++}]", itemRule, errors);
            }
        }
        else if (element.ValueKind == JsonValueKind.Object)
        {
            var properties = Properties(type);
            var rules = rule?.Child is { } child ? FieldRules.Of(child) : null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                var childPath = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                if (!seen.Add(property.Name))
                {
                    // Deserializing would keep the last value silently; which one the sender meant cannot be known.
                    Add(errors, childPath, "The property appears more than once in its object; give it once.");
                }
                else if (properties.TryGetValue(property.Name, out var propertyType))
                {
                    Visit(property.Value, propertyType, childPath, rules?.GetValueOrDefault(property.Name), errors);
                }
                else
                {
                    Add(errors, childPath, $"Unknown property. Allowed here: {string.Join(", ", properties.Keys)}.");
                }
            }
        }
    }

    /// <summary>
    /// For a number that does not fit its field: that it is too large (or too small), with the range the field's rules
    /// allow, or else the range of its type. Null when the value is no number or has a fraction where a whole one is due.
    /// </summary>
    private static string? OutOfRange(JsonElement element, bool whole, decimal typeMin, decimal typeMax, FieldRule? rule)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetDouble(out var value))
        {
            return null;
        }

        if (whole && Math.Abs(value) < 1e15 && value != Math.Floor(value))
        {
            return null;
        }

        if (Math.Abs(value) < 1)
        {
            return "has more decimal places than can be stored";
        }

        var min = rule?.Minimum ?? typeMin;
        var max = rule?.Maximum ?? typeMax;
        var range = (rule?.Minimum, rule?.Maximum) switch
        {
            (not null, not null) => $"from {min} to {max}",
            (not null, null) => $"{(rule!.ExclusiveMinimum ? "above" : "at least")} {min}{(typeMax < decimal.MaxValue ? $" and at most {typeMax}" : "")}",
            (null, not null) => $"at most {max}",
            _ => typeMax < decimal.MaxValue ? $"from {typeMin} to {typeMax}" : "within ±7.9e28",
        };
        return $"is too {(value < 0 ? "small" : "large")}: allowed here is {(whole ? "a whole number " : "")}{range}";
    }

    private static Type? ListItemType(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? type.GetGenericArguments()[0] : null;

    private static IReadOnlyDictionary<string, Type> Properties(Type type) => PropertiesByType.GetOrAdd(type, t =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite)
            .ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name), p => p.PropertyType, StringComparer.Ordinal));

    private static void Add(Dictionary<string, List<string>> errors, string path, string message)
    {
        var key = path.Length == 0 ? "$" : path;
        if (!errors.TryGetValue(key, out var list))
        {
            errors[key] = list = [];
        }

        list.Add(message);
    }
}
