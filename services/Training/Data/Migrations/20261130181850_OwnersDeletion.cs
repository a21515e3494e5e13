using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Data.Migrations
{
    /// <inheritdoc />
    public partial class OwnersDeletion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "DeleteRequested",
                schema: "training",
                table: "runs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "DeletedAt",
                schema: "training",
                table: "runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "OwnerId",
                schema: "training",
                table: "runs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OwnerName",
                schema: "training",
                table: "runs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "OwnerId",
                schema: "training",
                table: "model_versions",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OwnerName",
                schema: "training",
                table: "model_versions",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_runs_OwnerId",
                schema: "training",
                table: "runs",
                column: "OwnerId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_runs_OwnerId",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "DeleteRequested",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "DeletedAt",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "OwnerId",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "OwnerName",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "OwnerId",
                schema: "training",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "OwnerName",
                schema: "training",
                table: "model_versions");
        }
    }
}
