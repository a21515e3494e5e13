using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evaluation.Data.Migrations
{
    /// <inheritdoc />
    public partial class OneEvaluationWorker : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CheckpointSha256",
                schema: "evaluation",
                table: "evaluations",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SourceTokenizerKey",
                schema: "evaluation",
                table: "evaluations",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TokenizerKey",
                schema: "evaluation",
                table: "evaluations",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TraceParent",
                schema: "evaluation",
                table: "evaluations",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ValidationBytes",
                schema: "evaluation",
                table: "evaluations",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ValidationKey",
                schema: "evaluation",
                table: "evaluations",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ValidationTokens",
                schema: "evaluation",
                table: "evaluations",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "CheckpointSha256",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "SourceTokenizerKey",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "TokenizerKey",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "TraceParent",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "ValidationBytes",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "ValidationKey",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "ValidationTokens",
                schema: "evaluation",
                table: "evaluations");
        }
    }
}
