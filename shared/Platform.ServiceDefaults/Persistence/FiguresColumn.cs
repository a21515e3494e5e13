using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Contracts;

namespace Platform.ServiceDefaults.Persistence;

public static class FiguresColumn
{
    /// <summary>Stores evaluation figures as one jsonb document, so a new metric needs no migration.</summary>
    public static PropertyBuilder<EvaluationFigures?> HasFiguresDocument(this PropertyBuilder<EvaluationFigures?> p) =>
        p.HasColumnType("jsonb").HasConversion(f => EvaluationFiguresJson.Serialize(f!),
            json => EvaluationFiguresJson.Deserialize(json));
}
