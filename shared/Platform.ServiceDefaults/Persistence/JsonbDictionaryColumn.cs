using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Platform.ServiceDefaults.Persistence;

public static class JsonbDictionaryColumn
{
    /// <summary>
    /// Stores a name → value dictionary as one jsonb document, compared by its entries (so a replaced dictionary with
    /// the same entries is no change, and one changed in place is seen).
    /// </summary>
    public static PropertyBuilder<Dictionary<string, TValue>> HasJsonbDictionary<TValue>(
        this PropertyBuilder<Dictionary<string, TValue>> p) =>
        p.HasColumnType("jsonb").HasConversion(
            v => JsonSerializer.Serialize(v, (JsonSerializerOptions?)null),
            v => JsonSerializer.Deserialize<Dictionary<string, TValue>>(v, (JsonSerializerOptions?)null) ?? new(),
            new ValueComparer<Dictionary<string, TValue>>(
                (a, b) => a!.Count == b!.Count && a.All(e => b.ContainsKey(e.Key) && Equals(b[e.Key], e.Value)),
                d => d.Aggregate(0, (h, e) => HashCode.Combine(h, e.Key, e.Value)),
                d => new Dictionary<string, TValue>(d)));
}
