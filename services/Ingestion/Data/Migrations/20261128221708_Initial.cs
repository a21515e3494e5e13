using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Ingestion.Data.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "ingestion");

            migrationBuilder.CreateTable(
                name: "datasets",
                schema: "ingestion",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    FailureReason = table.Column<string>(type: "text", nullable: true),
                    Sha256 = table.Column<string>(type: "text", nullable: false),
                    Bytes = table.Column<long>(type: "bigint", nullable: false),
                    Characters = table.Column<long>(type: "bigint", nullable: false),
                    Lines = table.Column<long>(type: "bigint", nullable: false),
                    ValidationFraction = table.Column<double>(type: "double precision", nullable: false),
                    TrainBytes = table.Column<long>(type: "bigint", nullable: false),
                    ValidationBytes = table.Column<long>(type: "bigint", nullable: false),
                    CorpusKey = table.Column<string>(type: "text", nullable: false),
                    TrainKey = table.Column<string>(type: "text", nullable: false),
                    ValidationKey = table.Column<string>(type: "text", nullable: false),
                    TokenizerKind = table.Column<string>(type: "text", nullable: false),
                    TokenizerId = table.Column<Guid>(type: "uuid", nullable: true),
                    VocabSize = table.Column<int>(type: "integer", nullable: true),
                    TrainTokens = table.Column<long>(type: "bigint", nullable: true),
                    ValidationTokens = table.Column<long>(type: "bigint", nullable: true),
                    AutoTrainRunId = table.Column<Guid>(type: "uuid", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datasets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "outbox_messages",
                schema: "ingestion",
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

            migrationBuilder.CreateIndex(
                name: "IX_datasets_CreatedAt",
                schema: "ingestion",
                table: "datasets",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_pending",
                schema: "ingestion",
                table: "outbox_messages",
                column: "Id",
                filter: "\"DispatchedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "datasets",
                schema: "ingestion");

            migrationBuilder.DropTable(
                name: "outbox_messages",
                schema: "ingestion");
        }
    }
}
