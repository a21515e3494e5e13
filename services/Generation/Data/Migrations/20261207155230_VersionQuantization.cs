using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Generation.Data.Migrations
{
    /// <inheritdoc />
    public partial class VersionQuantization : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Quantization",
                schema: "generation",
                table: "servable_models",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "QuantizationSequence",
                schema: "generation",
                table: "servable_models",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Quantization",
                schema: "generation",
                table: "servable_models");

            migrationBuilder.DropColumn(
                name: "QuantizationSequence",
                schema: "generation",
                table: "servable_models");
        }
    }
}
