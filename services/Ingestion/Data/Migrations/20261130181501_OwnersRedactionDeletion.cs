using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ingestion.Data.Migrations
{
    /// <inheritdoc />
    public partial class OwnersRedactionDeletion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "DeletedAt",
                schema: "ingestion",
                table: "datasets",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DeletedBy",
                schema: "ingestion",
                table: "datasets",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "OwnerId",
                schema: "ingestion",
                table: "datasets",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OwnerName",
                schema: "ingestion",
                table: "datasets",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Redaction",
                schema: "ingestion",
                table: "datasets",
                type: "jsonb",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_datasets_OwnerId",
                schema: "ingestion",
                table: "datasets",
                column: "OwnerId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_datasets_OwnerId",
                schema: "ingestion",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "DeletedAt",
                schema: "ingestion",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "DeletedBy",
                schema: "ingestion",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "OwnerId",
                schema: "ingestion",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "OwnerName",
                schema: "ingestion",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "Redaction",
                schema: "ingestion",
                table: "datasets");
        }
    }
}
