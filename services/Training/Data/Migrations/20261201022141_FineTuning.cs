using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Data.Migrations
{
    /// <inheritdoc />
    public partial class FineTuning : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "BaseCheckpointKey",
                schema: "training",
                table: "runs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "BaseCheckpointSha256",
                schema: "training",
                table: "runs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "BaseModel",
                schema: "training",
                table: "runs",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TokenizerKey",
                schema: "training",
                table: "runs",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "BaseModel",
                schema: "training",
                table: "model_versions",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "FineTuneMethod",
                schema: "training",
                table: "model_versions",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "encodings",
                schema: "training",
                columns: table => new
                {
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    TokenizerKey = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    FailureReason = table.Column<string>(type: "text", nullable: true),
                    VocabSize = table.Column<int>(type: "integer", nullable: true),
                    TrainTokensKey = table.Column<string>(type: "text", nullable: true),
                    ValidationTokensKey = table.Column<string>(type: "text", nullable: true),
                    ValidationTokens = table.Column<long>(type: "bigint", nullable: true),
                    ValidationBytes = table.Column<long>(type: "bigint", nullable: true),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_encodings", x => new { x.DatasetId, x.TokenizerKey });
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "encodings",
                schema: "training");

            migrationBuilder.DropColumn(
                name: "BaseCheckpointKey",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "BaseCheckpointSha256",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "BaseModel",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "TokenizerKey",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "BaseModel",
                schema: "training",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "FineTuneMethod",
                schema: "training",
                table: "model_versions");
        }
    }
}
