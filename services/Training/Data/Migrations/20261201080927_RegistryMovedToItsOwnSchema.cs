using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Data.Migrations
{
    /// <inheritdoc />
    public partial class RegistryMovedToItsOwnSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The registry's own migration has copied these to the registry schema (it runs first); IF EXISTS keeps a
            // database that never had them (or a second replica migrating) from failing.
            migrationBuilder.Sql("""
                DROP TABLE IF EXISTS training.model_alias_moves;
                DROP TABLE IF EXISTS training.model_aliases;
                DROP TABLE IF EXISTS training.model_versions;
                DROP TABLE IF EXISTS training.promotion_gates;
                DROP SEQUENCE IF EXISTS training.model_alias_move_ids;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateSequence(
                name: "model_alias_move_ids",
                schema: "training");

            migrationBuilder.CreateTable(
                name: "model_alias_moves",
                schema: "training",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false),
                    Alias = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    By = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ByKeyId = table.Column<Guid>(type: "uuid", nullable: false),
                    FromVersion = table.Column<int>(type: "integer", nullable: true),
                    Name = table.Column<string>(type: "text", nullable: false),
                    ToVersion = table.Column<int>(type: "integer", nullable: true)
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
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_aliases", x => new { x.Name, x.Alias });
                });

            migrationBuilder.CreateTable(
                name: "model_versions",
                schema: "training",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Architecture = table.Column<string>(type: "text", nullable: false),
                    BaseModel = table.Column<string>(type: "text", nullable: true),
                    CheckpointKey = table.Column<string>(type: "text", nullable: false),
                    CheckpointSha256 = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    FineTuneMethod = table.Column<string>(type: "text", nullable: true),
                    ImportedFrom = table.Column<string>(type: "text", nullable: true),
                    Name = table.Column<string>(type: "text", nullable: false),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: true),
                    OwnerName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    Sample = table.Column<string>(type: "text", nullable: true),
                    SourceTokenizerKey = table.Column<string>(type: "text", nullable: true),
                    Tags = table.Column<List<string>>(type: "text[]", nullable: false, defaultValueSql: "'{}'::text[]"),
                    TokenizerKey = table.Column<string>(type: "text", nullable: false),
                    ValidationLoss = table.Column<double>(type: "double precision", nullable: true),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    Cost = table.Column<string>(type: "jsonb", nullable: true),
                    Evaluation = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_versions", x => x.Id);
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

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_Name_Version",
                schema: "training",
                table: "model_versions",
                columns: new[] { "Name", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_RunId",
                schema: "training",
                table: "model_versions",
                column: "RunId",
                unique: true);
        }
    }
}
