using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ingestion.Data.Migrations
{
    /// <inheritdoc />
    public partial class DatasetSharing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<List<Guid>>(
                name: "Readers",
                schema: "ingestion",
                table: "datasets",
                type: "uuid[]",
                nullable: false,
                defaultValueSql: "'{}'");

            migrationBuilder.AddColumn<bool>(
                name: "SharedWithEveryone",
                schema: "ingestion",
                table: "datasets",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<long>(
                name: "SharingSequence",
                schema: "ingestion",
                table: "datasets",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Readers",
                schema: "ingestion",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "SharedWithEveryone",
                schema: "ingestion",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "SharingSequence",
                schema: "ingestion",
                table: "datasets");
        }
    }
}
