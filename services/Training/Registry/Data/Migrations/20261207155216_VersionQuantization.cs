using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Registry.Data.Migrations
{
    /// <inheritdoc />
    public partial class VersionQuantization : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Quantization",
                schema: "registry",
                table: "model_versions",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "QuantizationSequence",
                schema: "registry",
                table: "model_versions",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Quantization",
                schema: "registry",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "QuantizationSequence",
                schema: "registry",
                table: "model_versions");
        }
    }
}
