using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Data.Migrations
{
    /// <inheritdoc />
    public partial class EncoderDecoder : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Architecture",
                schema: "training",
                table: "model_versions",
                type: "text",
                nullable: false,
                defaultValue: "gpt");

            migrationBuilder.AddColumn<string>(
                name: "SourceTokenizerKey",
                schema: "training",
                table: "model_versions",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Format",
                schema: "training",
                table: "datasets",
                type: "text",
                nullable: false,
                defaultValue: "text");

            migrationBuilder.AddColumn<string>(
                name: "SourceTokenizerKey",
                schema: "training",
                table: "datasets",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "SourceVocabSize",
                schema: "training",
                table: "datasets",
                type: "integer",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Architecture",
                schema: "training",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "SourceTokenizerKey",
                schema: "training",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "Format",
                schema: "training",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "SourceTokenizerKey",
                schema: "training",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "SourceVocabSize",
                schema: "training",
                table: "datasets");
        }
    }
}
