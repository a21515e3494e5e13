using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Registry.Data.Migrations
{
    /// <inheritdoc />
    public partial class ModelNameOwners : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "model_names",
                schema: "registry",
                columns: table => new
                {
                    Name = table.Column<string>(type: "text", nullable: false),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: true),
                    OwnerName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Editors = table.Column<List<Guid>>(type: "uuid[]", nullable: false, defaultValueSql: "'{}'::uuid[]"),
                    ClaimedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_names", x => x.Name);
                });

            // A name already in use belongs to the owner of its first version; one whose first run is still on its
            // way, to that run's owner.
            migrationBuilder.Sql("""
                INSERT INTO registry.model_names ("Name", "OwnerId", "OwnerName", "ClaimedAt")
                SELECT DISTINCT ON ("Name") "Name", "OwnerId", "OwnerName", "CreatedAt"
                FROM registry.model_versions ORDER BY "Name", "Version";
                INSERT INTO registry.model_names ("Name", "OwnerId", "OwnerName", "ClaimedAt")
                SELECT DISTINCT ON ("Name") "Name", "OwnerId", "OwnerName", now()
                FROM registry.registration_candidates WHERE "State" = 'Waiting' ORDER BY "Name", "RunId"
                ON CONFLICT ("Name") DO NOTHING;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "model_names",
                schema: "registry");
        }
    }
}
