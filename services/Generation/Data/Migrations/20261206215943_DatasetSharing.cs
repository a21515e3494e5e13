using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Generation.Data.Migrations
{
    /// <inheritdoc />
    public partial class DatasetSharing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<List<Guid>>(
                name: "Lineage",
                schema: "generation",
                table: "servable_models",
                type: "uuid[]",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "dataset_reach",
                schema: "generation",
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "dataset_reach",
                schema: "generation");

            migrationBuilder.DropColumn(
                name: "Lineage",
                schema: "generation",
                table: "servable_models");
        }
    }
}
