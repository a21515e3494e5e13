using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tokenization.Data.Migrations
{
    /// <inheritdoc />
    public partial class EncodingSourceTokenizer : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_encodings_DatasetId_TokenizerKey",
                schema: "tokenization",
                table: "encodings");

            migrationBuilder.AddColumn<string>(
                name: "SourceTokenizerKey",
                schema: "tokenization",
                table: "encodings",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateIndex(
                name: "IX_encodings_DatasetId_TokenizerKey_SourceTokenizerKey",
                schema: "tokenization",
                table: "encodings",
                columns: new[] { "DatasetId", "TokenizerKey", "SourceTokenizerKey" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_encodings_DatasetId_TokenizerKey_SourceTokenizerKey",
                schema: "tokenization",
                table: "encodings");

            migrationBuilder.DropColumn(
                name: "SourceTokenizerKey",
                schema: "tokenization",
                table: "encodings");

            migrationBuilder.CreateIndex(
                name: "IX_encodings_DatasetId_TokenizerKey",
                schema: "tokenization",
                table: "encodings",
                columns: new[] { "DatasetId", "TokenizerKey" },
                unique: true);
        }
    }
}
