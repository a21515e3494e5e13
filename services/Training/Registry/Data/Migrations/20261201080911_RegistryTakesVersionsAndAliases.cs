using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Training.Registry.Data.Migrations
{
    /// <inheritdoc />
    public partial class RegistryTakesVersionsAndAliases : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "registry");

            migrationBuilder.CreateSequence(
                name: "model_alias_move_ids",
                schema: "registry");

            migrationBuilder.CreateTable(
                name: "model_alias_moves",
                schema: "registry",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false),
                    Name = table.Column<string>(type: "text", nullable: false),
                    Alias = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    FromVersion = table.Column<int>(type: "integer", nullable: true),
                    ToVersion = table.Column<int>(type: "integer", nullable: true),
                    By = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ByKeyId = table.Column<Guid>(type: "uuid", nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_alias_moves", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "model_aliases",
                schema: "registry",
                columns: table => new
                {
                    Name = table.Column<string>(type: "text", nullable: false),
                    Alias = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_aliases", x => new { x.Name, x.Alias });
                });

            migrationBuilder.CreateTable(
                name: "model_versions",
                schema: "registry",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "text", nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: true),
                    OwnerName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    CheckpointKey = table.Column<string>(type: "text", nullable: false),
                    CheckpointSha256 = table.Column<string>(type: "text", nullable: false),
                    TokenizerKey = table.Column<string>(type: "text", nullable: false),
                    Architecture = table.Column<string>(type: "text", nullable: false),
                    SourceTokenizerKey = table.Column<string>(type: "text", nullable: true),
                    ImportedFrom = table.Column<string>(type: "text", nullable: true),
                    BaseModel = table.Column<string>(type: "text", nullable: true),
                    FineTuneMethod = table.Column<string>(type: "text", nullable: true),
                    ValidationLoss = table.Column<double>(type: "double precision", nullable: true),
                    Description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    Tags = table.Column<List<string>>(type: "text[]", nullable: false, defaultValueSql: "'{}'::text[]"),
                    Sample = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Cost = table.Column<string>(type: "jsonb", nullable: true),
                    Evaluation = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_versions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "outbox_messages",
                schema: "registry",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    MessageType = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    Body = table.Column<string>(type: "jsonb", nullable: false),
                    DestinationQueue = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    DispatchedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    NextAttemptAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastError = table.Column<string>(type: "text", nullable: true),
                    ParkedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    TraceParent = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    TraceState = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox_messages", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "promotion_gates",
                schema: "registry",
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

            migrationBuilder.CreateTable(
                name: "registration_candidates",
                schema: "registry",
                columns: table => new
                {
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CheckpointKey = table.Column<string>(type: "text", nullable: true),
                    CheckpointSha256 = table.Column<string>(type: "text", nullable: true),
                    TokenizerKey = table.Column<string>(type: "text", nullable: true),
                    Architecture = table.Column<string>(type: "text", nullable: false),
                    SourceTokenizerKey = table.Column<string>(type: "text", nullable: true),
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: true),
                    OwnerName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    BaseModel = table.Column<string>(type: "text", nullable: true),
                    FineTuneMethod = table.Column<string>(type: "text", nullable: true),
                    ValidationLoss = table.Column<double>(type: "double precision", nullable: true),
                    TrainedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    EvaluationId = table.Column<Guid>(type: "uuid", nullable: true),
                    Sample = table.Column<string>(type: "text", nullable: true),
                    EvaluatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RegisteredVersion = table.Column<int>(type: "integer", nullable: true),
                    Cost = table.Column<string>(type: "jsonb", nullable: true),
                    Evaluation = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_registration_candidates", x => x.RunId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_model_alias_moves_Name_Alias",
                schema: "registry",
                table: "model_alias_moves",
                columns: new[] { "Name", "Alias" });

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_Name_Version",
                schema: "registry",
                table: "model_versions",
                columns: new[] { "Name", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_RunId",
                schema: "registry",
                table: "model_versions",
                column: "RunId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_dispatched",
                schema: "registry",
                table: "outbox_messages",
                column: "DispatchedAt",
                filter: "\"DispatchedAt\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_pending",
                schema: "registry",
                table: "outbox_messages",
                column: "Id",
                filter: "\"DispatchedAt\" IS NULL AND \"ParkedAt\" IS NULL");

            // Versions, aliases, their history and gates lived in the training schema until the registry became a
            // bounded context: an existing installation's are copied here (Training's next migration drops them there;
            // the registry's migrations run first). A fresh database has none to copy.
            migrationBuilder.Sql("""
                DO $$
                BEGIN
                  IF to_regclass('training.model_versions') IS NOT NULL THEN
                    INSERT INTO registry.model_versions ("Id","Name","Version","RunId","DatasetId","OwnerId","OwnerName","CheckpointKey","CheckpointSha256","TokenizerKey","Architecture","SourceTokenizerKey","ImportedFrom","BaseModel","FineTuneMethod","ValidationLoss","Description","Tags","Sample","CreatedAt","Cost","Evaluation")
                      SELECT "Id","Name","Version","RunId","DatasetId","OwnerId","OwnerName","CheckpointKey","CheckpointSha256","TokenizerKey","Architecture","SourceTokenizerKey","ImportedFrom","BaseModel","FineTuneMethod","ValidationLoss","Description","Tags","Sample","CreatedAt","Cost","Evaluation" FROM training.model_versions;
                    INSERT INTO registry.model_alias_moves ("Id","Name","Alias","FromVersion","ToVersion","By","ByKeyId","At")
                      SELECT "Id","Name","Alias","FromVersion","ToVersion","By","ByKeyId","At" FROM training.model_alias_moves;
                    INSERT INTO registry.model_aliases ("Name","Alias","Version","Sequence","UpdatedAt","UpdatedBy")
                      SELECT "Name","Alias","Version","Sequence","UpdatedAt","UpdatedBy" FROM training.model_aliases;
                    INSERT INTO registry.promotion_gates ("Name","Alias","Requires","UpdatedAt","UpdatedBy")
                      SELECT "Name","Alias","Requires","UpdatedAt","UpdatedBy" FROM training.promotion_gates;
                    PERFORM setval('registry.model_alias_move_ids', (SELECT last_value FROM training.model_alias_move_ids));
                    INSERT INTO registry.registration_candidates ("RunId","State","Name","Architecture","DatasetId","RegisteredVersion")
                      SELECT "RunId", 'Registered', "Name", "Architecture", "DatasetId", "Version" FROM training.model_versions
                      WHERE "ImportedFrom" IS NULL;
                  END IF;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "model_alias_moves",
                schema: "registry");

            migrationBuilder.DropTable(
                name: "model_aliases",
                schema: "registry");

            migrationBuilder.DropTable(
                name: "model_versions",
                schema: "registry");

            migrationBuilder.DropTable(
                name: "outbox_messages",
                schema: "registry");

            migrationBuilder.DropTable(
                name: "promotion_gates",
                schema: "registry");

            migrationBuilder.DropTable(
                name: "registration_candidates",
                schema: "registry");

            migrationBuilder.DropSequence(
                name: "model_alias_move_ids",
                schema: "registry");
        }
    }
}
