using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Tokenization.Data.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "tokenization");

            migrationBuilder.CreateTable(
                name: "outbox_messages",
                schema: "tokenization",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    MessageType = table.Column<string>(type: "text", nullable: false),
                    Body = table.Column<string>(type: "jsonb", nullable: false),
                    DestinationQueue = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    DispatchedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox_messages", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "tokenizers",
                schema: "tokenization",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    DatasetName = table.Column<string>(type: "text", nullable: false),
                    Kind = table.Column<string>(type: "text", nullable: false),
                    VocabSize = table.Column<int>(type: "integer", nullable: false),
                    TokenizerKey = table.Column<string>(type: "text", nullable: false),
                    TrainTokensKey = table.Column<string>(type: "text", nullable: false),
                    ValidationTokensKey = table.Column<string>(type: "text", nullable: false),
                    TokenDType = table.Column<string>(type: "text", nullable: false),
                    TrainTokens = table.Column<long>(type: "bigint", nullable: false),
                    ValidationTokens = table.Column<long>(type: "bigint", nullable: false),
                    TrainBytes = table.Column<long>(type: "bigint", nullable: false),
                    ValidationBytes = table.Column<long>(type: "bigint", nullable: false),
                    BuildMilliseconds = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_tokenizers", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_outbox_pending",
                schema: "tokenization",
                table: "outbox_messages",
                column: "Id",
                filter: "\"DispatchedAt\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_tokenizers_DatasetId",
                schema: "tokenization",
                table: "tokenizers",
                column: "DatasetId",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "outbox_messages",
                schema: "tokenization");

            migrationBuilder.DropTable(
                name: "tokenizers",
                schema: "tokenization");
        }
    }
}
