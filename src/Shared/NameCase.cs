// Shared source: linked into the packages that derive column or field names from .NET property names (Parquet,
// OpenSearch). It depends on the BCL only.
using System.Text;

namespace Analytics.Streaming.Naming;

/// <summary>Name conversions for columns and fields derived from property names.</summary>
internal static class NameCase
{
    /// <summary>Converts a PascalCase or camelCase name to lower_snake_case (<c>HTTPStatusCode</c> becomes <c>http_status_code</c>).</summary>
    public static string SnakeCase(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var text = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool boundary = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1])
                    || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])));
                if (boundary && text.Length > 0 && text[^1] != '_')
                {
                    text.Append('_');
                }

                text.Append(char.ToLowerInvariant(c));
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }
}
