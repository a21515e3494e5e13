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
            migrationBuilder.Sql(@"CREATE FUNCTION pg_temp.finite(x float8) RETURNS float8 LANGUAGE sql AS
                $$ SELECT CASE WHEN x IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE x END $$");
            migrationBuilder.Sql(@"UPDATE evaluation.evaluations SET ""Figures"" = jsonb_strip_nulls(jsonb_build_object(
                    'loss', pg_temp.finite(""Loss""),
                    'perplexity', pg_temp.finite(""Perplexity""),
                    'bitsPerByte', pg_temp.finite(""BitsPerByte""),
                    'top1Accuracy', pg_temp.finite(""Top1Accuracy""),
                    'top5Accuracy', pg_temp.finite(""Top5Accuracy""),
                    'tokensEvaluated', pg_temp.finite(""TokensEvaluated""),
                    'macroPrecision', pg_temp.finite(""MacroPrecision""),
                    'macroRecall', pg_temp.finite(""MacroRecall""),
                    'macroF1', pg_temp.finite(""MacroF1""),
                    'expectedCalibrationError', pg_temp.finite(""ExpectedCalibrationError""),
                    'bleu', pg_temp.finite(""Bleu""),
                    'chrF', pg_temp.finite(""ChrF""),
                    'exactMatch', pg_temp.finite(""ExactMatch""),
                    'pairsEvaluated', pg_temp.finite(""PairsEvaluated""),
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
