using System.Text.RegularExpressions;

namespace EvidenceApi.Vocabularies;

/// <summary>Syntax of bibliographic identifiers, as the database CHECK constraints on sources also enforce.</summary>
public static partial class Identifiers
{
    /// <summary>A DOI without resolver prefix: 10.1234/abc.</summary>
    [GeneratedRegex(@"^10\.\d{4,9}/\S+$")]
    public static partial Regex Doi();

    /// <summary>A PubMed id: 1 to 10 digits, no leading zero.</summary>
    [GeneratedRegex(@"^[1-9][0-9]{0,9}$")]
    public static partial Regex Pmid();
}
