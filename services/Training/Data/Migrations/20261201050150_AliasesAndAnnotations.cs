using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Data.Migrations
{
    /// <inheritdoc />
    public partial class AliasesAndAnnotations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateSequence(
                name: "model_alias_move_ids",
                schema: "training");

            migrationBuilder.AddColumn<string>(
                name: "Note",
                schema: "training",
                table: "runs",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<List<string>>(
                name: "Tags",
                schema: "training",
                table: "runs",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'::text[]");

            migrationBuilder.AddColumn<string>(
                name: "Description",
                schema: "training",
                table: "model_versions",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<List<string>>(
                name: "Tags",
                schema: "training",
                table: "model_versions",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'::text[]");

            migrationBuilder.AddColumn<double>(
                name: "ValidationLoss",
                schema: "training",
                table: "model_versions",
                type: "double precision",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "model_alias_moves",
                schema: "training",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false),
                    Name = table.Column<string>(type: "text", nullable: false),
                    Alias = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    FromVersion = table.Column<int>(type: "integer", nullable: true),
                    ToVersion = table.Column<int>(type: "integer", nullable: true),
                    By = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ByKeyId = table.Column<Guid>(type: "uuid", nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_alias_moves", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "model_aliases",
                schema: "training",
                columns: table => new
                {
                    Name = table.Column<string>(type: "text", nullable: false),
                    Alias = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_aliases", x => new { x.Name, x.Alias });
                });

            migrationBuilder.CreateTable(
                name: "promotion_gates",
                schema: "training",
                columns: table => new
                {
                    Name = table.Column<string>(type: "text", nullable: false),
                    Alias = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    Requires = table.Column<string>(type: "jsonb", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_promotion_gates", x => new { x.Name, x.Alias });
                });

            migrationBuilder.CreateIndex(
                name: "IX_model_alias_moves_Name_Alias",
                schema: "training",
                table: "model_alias_moves",
                columns: new[] { "Name", "Alias" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "model_alias_moves",
                schema: "training");

            migrationBuilder.DropTable(
                name: "model_aliases",
                schema: "training");

            migrationBuilder.DropTable(
                name: "promotion_gates",
                schema: "training");

            migrationBuilder.DropColumn(
                name: "Note",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "Tags",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "Description",
                schema: "training",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "Tags",
                schema: "training",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "ValidationLoss",
                schema: "training",
                table: "model_versions");

            migrationBuilder.DropSequence(
                name: "model_alias_move_ids",
                schema: "training");
        }
    }
}
