using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Registry.Data.Migrations
{
    /// <inheritdoc />
    public partial class DatasetSharing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<List<Guid>>(
                name: "Lineage",
                schema: "registry",
                table: "registration_candidates",
                type: "uuid[]",
                nullable: true);

            migrationBuilder.AddColumn<List<Guid>>(
                name: "Lineage",
                schema: "registry",
                table: "model_versions",
                type: "uuid[]",
                nullable: false,
                defaultValueSql: "'{}'");

            migrationBuilder.AddColumn<bool>(
                name: "LineageAnnounced",
                schema: "registry",
                table: "model_versions",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "dataset_reach",
                schema: "registry",
                columns: table => new
                {
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: true),
                    Everyone = table.Column<bool>(type: "boolean", nullable: false),
                    Readers = table.Column<List<Guid>>(type: "uuid[]", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_reach", x => x.DatasetId);
                });

            // A version learned from its run's dataset (an import from none), and a fine-tune from its base's lineage
            // too: each pass takes one more link of a chain of fine-tunes.
            migrationBuilder.Sql("""
                UPDATE registry.model_versions SET "Lineage" = ARRAY["DatasetId"]
                WHERE "DatasetId" <> '00000000-0000-0000-0000-000000000000';
                """);
            for (var link = 0; link < 4; link++)
                migrationBuilder.Sql("""
                    UPDATE registry.model_versions v
                    SET "Lineage" = ARRAY(SELECT DISTINCT unnest(v."Lineage" || b."Lineage"))
                    FROM registry.model_versions b
                    WHERE v."BaseModel" = b."Name" || '/versions/' || b."Version"
                      AND NOT (b."Lineage" <@ v."Lineage");
                    """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "dataset_reach",
                schema: "registry");

            migrationBuilder.DropColumn(
                name: "Lineage",
                schema: "registry",
                table: "registration_candidates");

            migrationBuilder.DropColumn(
                name: "Lineage",
                schema: "registry",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "LineageAnnounced",
                schema: "registry",
                table: "model_versions");
        }
    }
}
