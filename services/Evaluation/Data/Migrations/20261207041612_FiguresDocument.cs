using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evaluation.Data.Migrations
{
    /// <inheritdoc />
    public partial class FiguresDocument : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Figures",
                schema: "evaluation",
                table: "evaluations",
                type: "jsonb",
                nullable: true);

            // The figures move into one document; nothing is lost. JSON has no NaN or infinity, and figures not
            // taken (nulls) are left out.
            migrationBuilder.Sql(@"UPDATE evaluation.evaluations SET ""Figures"" = jsonb_strip_nulls(jsonb_build_object(
                    'loss', CASE WHEN ""Loss"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""Loss"" END,
                    'perplexity', CASE WHEN ""Perplexity"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""Perplexity"" END,
                    'bitsPerByte', CASE WHEN ""BitsPerByte"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""BitsPerByte"" END,
                    'top1Accuracy', CASE WHEN ""Top1Accuracy"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""Top1Accuracy"" END,
                    'top5Accuracy', CASE WHEN ""Top5Accuracy"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""Top5Accuracy"" END,
                    'tokensEvaluated', ""TokensEvaluated"",
                    'macroPrecision', CASE WHEN ""MacroPrecision"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""MacroPrecision"" END,
                    'macroRecall', CASE WHEN ""MacroRecall"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""MacroRecall"" END,
                    'macroF1', CASE WHEN ""MacroF1"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""MacroF1"" END,
                    'expectedCalibrationError', CASE WHEN ""ExpectedCalibrationError"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""ExpectedCalibrationError"" END,
                    'bleu', CASE WHEN ""Bleu"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""Bleu"" END,
                    'chrF', CASE WHEN ""ChrF"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""ChrF"" END,
                    'exactMatch', CASE WHEN ""ExactMatch"" IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ""ExactMatch"" END,
                    'pairsEvaluated', ""PairsEvaluated"",
                    'bleuTokenize', ""BleuTokenize""))
                WHERE ""State"" = 'Completed'");

            migrationBuilder.DropColumn(
                name: "BitsPerByte",
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
                name: "Loss",
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

            migrationBuilder.DropColumn(
                name: "Perplexity",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "TokensEvaluated",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "Top1Accuracy",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "Top5Accuracy",
                schema: "evaluation",
                table: "evaluations");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<double>(
                name: "BitsPerByte",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

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
                name: "Loss",
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

            migrationBuilder.AddColumn<double>(
                name: "Perplexity",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "TokensEvaluated",
                schema: "evaluation",
                table: "evaluations",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "Top1Accuracy",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "Top5Accuracy",
                schema: "evaluation",
                table: "evaluations",
                type: "double precision",
                nullable: true);

            migrationBuilder.Sql(@"UPDATE evaluation.evaluations SET
                    ""Loss"" = (""Figures""->>'loss')::float8,
                    ""Perplexity"" = (""Figures""->>'perplexity')::float8,
                    ""BitsPerByte"" = (""Figures""->>'bitsPerByte')::float8,
                    ""Top1Accuracy"" = (""Figures""->>'top1Accuracy')::float8,
                    ""Top5Accuracy"" = (""Figures""->>'top5Accuracy')::float8,
                    ""TokensEvaluated"" = (""Figures""->>'tokensEvaluated')::bigint,
                    ""MacroPrecision"" = (""Figures""->>'macroPrecision')::float8,
                    ""MacroRecall"" = (""Figures""->>'macroRecall')::float8,
                    ""MacroF1"" = (""Figures""->>'macroF1')::float8,
                    ""ExpectedCalibrationError"" = (""Figures""->>'expectedCalibrationError')::float8,
                    ""Bleu"" = (""Figures""->>'bleu')::float8,
                    ""ChrF"" = (""Figures""->>'chrF')::float8,
                    ""ExactMatch"" = (""Figures""->>'exactMatch')::float8,
                    ""PairsEvaluated"" = (""Figures""->>'pairsEvaluated')::bigint,
                    ""BleuTokenize"" = ""Figures""->>'bleuTokenize'
                WHERE ""Figures"" IS NOT NULL");

            migrationBuilder.DropColumn(
                name: "Figures",
                schema: "evaluation",
                table: "evaluations");
        }
    }
}
