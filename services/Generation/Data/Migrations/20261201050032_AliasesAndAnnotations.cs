using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Generation.Data.Migrations
{
    /// <inheritdoc />
    public partial class AliasesAndAnnotations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "model_aliases",
                schema: "generation",
                columns: table => new
                {
                    Name = table.Column<string>(type: "text", nullable: false),
                    Alias = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: true),
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_aliases", x => new { x.Name, x.Alias });
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "model_aliases",
                schema: "generation");
        }
    }
}
