using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evaluation.Data.Migrations
{
    /// <inheritdoc />
    public partial class SequenceMetrics : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Architecture",
                schema: "evaluation",
                table: "evaluations",
                type: "text",
                nullable: false,
                defaultValue: "gpt");

            migrationBuilder.AddColumn<double>(
                name: "Bleu",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "BleuTokenize",
                schema: "evaluation",
                table: "evaluations",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "ChrF",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "ExactMatch",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "ExpectedCalibrationError",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "MacroF1",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "MacroPrecision",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "MacroRecall",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "PairsEvaluated",
                schema: "evaluation",
                table: "evaluations",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Architecture",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "Bleu",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "BleuTokenize",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "ChrF",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "ExactMatch",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "ExpectedCalibrationError",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "MacroF1",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "MacroPrecision",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "MacroRecall",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "PairsEvaluated",
                schema: "evaluation",
                table: "evaluations");
        }
    }
}
