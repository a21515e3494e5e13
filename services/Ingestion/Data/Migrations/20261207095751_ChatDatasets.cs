using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ingestion.Data.Migrations
{
    /// <inheritdoc />
    public partial class ChatDatasets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Chat",
                schema: "ingestion",
                table: "datasets",
                type: "jsonb",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Chat",
                schema: "ingestion",
                table: "datasets");
        }
    }
}
