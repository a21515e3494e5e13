using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evaluation.Data.Migrations
{
    /// <inheritdoc />
    public partial class EncodingsByTokenization : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ValidationBytes",
                schema: "evaluation",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "ValidationTextKey",
                schema: "evaluation",
                table: "datasets");

            migrationBuilder.AddColumn<string>(
                name: "TokenizationFailure",
                schema: "evaluation",
                table: "datasets",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "Tokenized",
                schema: "evaluation",
                table: "datasets",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            // Datasets known before Tokenization encoded for evaluations were tokenized long since (one still being
            // tokenized asks for its encoding early and is told why it cannot).
            migrationBuilder.Sql(@"UPDATE evaluation.datasets SET ""Tokenized"" = NOT ""Deleted""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "TokenizationFailure",
                schema: "evaluation",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "Tokenized",
                schema: "evaluation",
                table: "datasets");

            migrationBuilder.AddColumn<long>(
                name: "ValidationBytes",
                schema: "evaluation",
                table: "datasets",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "ValidationTextKey",
                schema: "evaluation",
                table: "datasets",
                type: "text",
                nullable: false,
                defaultValue: "");
        }
    }
}
