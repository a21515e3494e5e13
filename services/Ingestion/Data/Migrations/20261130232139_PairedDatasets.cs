using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ingestion.Data.Migrations
{
    /// <inheritdoc />
    public partial class PairedDatasets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Format",
                schema: "ingestion",
                table: "datasets",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "text");

            migrationBuilder.AddColumn<string>(
                name: "Pairs",
                schema: "ingestion",
                table: "datasets",
                type: "jsonb",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Format",
                schema: "ingestion",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "Pairs",
                schema: "ingestion",
                table: "datasets");
        }
    }
}
