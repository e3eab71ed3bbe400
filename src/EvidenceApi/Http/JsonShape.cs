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

    /// <summary>Errors keyed by JSON path (<c>outcomes[1].value</c>; <c>$</c> for the document itself).</summary>
    public static Dictionary<string, string[]> Check<T>(JsonElement root)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        Visit(root, typeof(T), "", errors);
        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }

    private static void Visit(JsonElement element, Type type, string path, Dictionary<string, List<string>> errors)
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
            _ when type == typeof(int) => element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out _) ? null : "must be a whole number",
            _ when type == typeof(long) => element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out _) ? null : "must be a whole number",
            _ when type == typeof(decimal) => element.ValueKind == JsonValueKind.Number && element.TryGetDecimal(out _) ? null : "must be a number",
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
            foreach (var item in element.EnumerateArray())
            {
                Visit(item, itemType, $"{path}[{index++}]", errors);
            }
        }
        else if (element.ValueKind == JsonValueKind.Object)
        {
            var properties = Properties(type);
            foreach (var property in element.EnumerateObject())
            {
                var childPath = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                if (properties.TryGetValue(property.Name, out var propertyType))
                {
                    Visit(property.Value, propertyType, childPath, errors);
                }
                else
                {
                    Add(errors, childPath, $"Unknown property. Allowed here: {string.Join(", ", properties.Keys)}.");
                }
            }
        }
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
