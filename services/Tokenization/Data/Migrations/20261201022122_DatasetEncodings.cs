using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tokenization.Data.Migrations
{
    /// <inheritdoc />
    public partial class DatasetEncodings : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "TrainTextKey",
                schema: "tokenization",
                table: "tokenizers",
                type: "text",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "ValidationTextKey",
                schema: "tokenization",
                table: "tokenizers",
                type: "text",
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "encodings",
                schema: "tokenization",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    TokenizerKey = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    VocabSize = table.Column<int>(type: "integer", nullable: false),
                    TrainTokensKey = table.Column<string>(type: "text", nullable: false),
                    ValidationTokensKey = table.Column<string>(type: "text", nullable: false),
                    TrainTokens = table.Column<long>(type: "bigint", nullable: false),
                    ValidationTokens = table.Column<long>(type: "bigint", nullable: false),
                    ValidationBytes = table.Column<long>(type: "bigint", nullable: false),
                    BuildMilliseconds = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_encodings", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_encodings_DatasetId_TokenizerKey",
                schema: "tokenization",
                table: "encodings",
                columns: new[] { "DatasetId", "TokenizerKey" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "encodings",
                schema: "tokenization");

            migrationBuilder.DropColumn(
                name: "TrainTextKey",
                schema: "tokenization",
                table: "tokenizers");

            migrationBuilder.DropColumn(
                name: "ValidationTextKey",
                schema: "tokenization",
                table: "tokenizers");
        }
    }
}
