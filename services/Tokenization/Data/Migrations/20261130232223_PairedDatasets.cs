using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tokenization.Data.Migrations
{
    /// <inheritdoc />
    public partial class PairedDatasets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Format",
                schema: "tokenization",
                table: "tokenizers",
                type: "text",
                nullable: false,
                defaultValue: "text");

            migrationBuilder.AddColumn<string>(
                name: "SourceTokenizerKey",
                schema: "tokenization",
                table: "tokenizers",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "SourceVocabSize",
                schema: "tokenization",
                table: "tokenizers",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "TrainPairs",
                schema: "tokenization",
                table: "tokenizers",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ValidationPairs",
                schema: "tokenization",
                table: "tokenizers",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Format",
                schema: "tokenization",
                table: "tokenizers");

            migrationBuilder.DropColumn(
                name: "SourceTokenizerKey",
                schema: "tokenization",
                table: "tokenizers");

            migrationBuilder.DropColumn(
                name: "SourceVocabSize",
                schema: "tokenization",
                table: "tokenizers");

            migrationBuilder.DropColumn(
                name: "TrainPairs",
                schema: "tokenization",
                table: "tokenizers");

            migrationBuilder.DropColumn(
                name: "ValidationPairs",
                schema: "tokenization",
                table: "tokenizers");
        }
    }
}
