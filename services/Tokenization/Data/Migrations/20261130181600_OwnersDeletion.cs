using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tokenization.Data.Migrations
{
    /// <inheritdoc />
    public partial class OwnersDeletion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "OwnerId",
                schema: "tokenization",
                table: "tokenizers",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OwnerName",
                schema: "tokenization",
                table: "tokenizers",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "deleted_datasets",
                schema: "tokenization",
                columns: table => new
                {
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    DeletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_deleted_datasets", x => x.DatasetId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_tokenizers_OwnerId",
                schema: "tokenization",
                table: "tokenizers",
                column: "OwnerId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "deleted_datasets",
                schema: "tokenization");

            migrationBuilder.DropIndex(
                name: "IX_tokenizers_OwnerId",
                schema: "tokenization",
                table: "tokenizers");

            migrationBuilder.DropColumn(
                name: "OwnerId",
                schema: "tokenization",
                table: "tokenizers");

            migrationBuilder.DropColumn(
                name: "OwnerName",
                schema: "tokenization",
                table: "tokenizers");
        }
    }
}
