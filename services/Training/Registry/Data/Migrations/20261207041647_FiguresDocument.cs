using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Registry.Data.Migrations
{
    /// <inheritdoc />
    public partial class FiguresDocument : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Evaluation figures were an owned JSON type and are now one document (EvaluationFigures): the columns
            // stay jsonb, and rows written before read as they are (PascalCase names, nulls left out).
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
        }
    }
}
