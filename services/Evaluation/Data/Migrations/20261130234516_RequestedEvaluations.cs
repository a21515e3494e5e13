using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Evaluation.Data.Migrations
{
    /// <inheritdoc />
    public partial class RequestedEvaluations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_evaluations_RunId",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.AddColumn<Guid>(
                name: "DatasetId",
                schema: "evaluation",
                table: "evaluations",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "ModelVersion",
                schema: "evaluation",
                table: "evaluations",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "RequestedBy",
                schema: "evaluation",
                table: "evaluations",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "StartedAt",
                schema: "evaluation",
                table: "evaluations",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "datasets",
                schema: "evaluation",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "text", nullable: false),
                    Format = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    ValidationTextKey = table.Column<string>(type: "text", nullable: false),
                    ValidationBytes = table.Column<long>(type: "bigint", nullable: false),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: true),
                    Deleted = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datasets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "model_versions",
                schema: "evaluation",
                columns: table => new
                {
                    Name = table.Column<string>(type: "text", nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    CheckpointKey = table.Column<string>(type: "text", nullable: false),
                    CheckpointSha256 = table.Column<string>(type: "text", nullable: false),
                    TokenizerKey = table.Column<string>(type: "text", nullable: false),
                    SourceTokenizerKey = table.Column<string>(type: "text", nullable: true),
                    Architecture = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_versions", x => new { x.Name, x.Version });
                });

            migrationBuilder.CreateIndex(
                name: "IX_evaluations_DatasetId",
                schema: "evaluation",
                table: "evaluations",
                column: "DatasetId");

            migrationBuilder.CreateIndex(
                name: "IX_evaluations_RunId",
                schema: "evaluation",
                table: "evaluations",
                column: "RunId",
                unique: true,
                filter: "\"DatasetId\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_evaluations_State_CreatedAt",
                schema: "evaluation",
                table: "evaluations",
                columns: new[] { "State", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "datasets",
                schema: "evaluation");

            migrationBuilder.DropTable(
                name: "model_versions",
                schema: "evaluation");

            migrationBuilder.DropIndex(
                name: "IX_evaluations_DatasetId",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropIndex(
                name: "IX_evaluations_RunId",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropIndex(
                name: "IX_evaluations_State_CreatedAt",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "DatasetId",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "ModelVersion",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "RequestedBy",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.DropColumn(
                name: "StartedAt",
                schema: "evaluation",
                table: "evaluations");

            migrationBuilder.CreateIndex(
                name: "IX_evaluations_RunId",
                schema: "evaluation",
                table: "evaluations",
                column: "RunId",
                unique: true);
        }
    }
}
