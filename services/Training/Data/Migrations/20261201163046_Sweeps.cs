using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Data.Migrations
{
    /// <inheritdoc />
    public partial class Sweeps : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "SweepId",
                schema: "training",
                table: "runs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "TrainedAt",
                schema: "training",
                table: "runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "sweeps",
                schema: "training",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Strategy = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Space = table.Column<string>(type: "jsonb", nullable: false),
                    Seed = table.Column<int>(type: "integer", nullable: true),
                    MaxRuns = table.Column<int>(type: "integer", nullable: false),
                    Objective = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    PromoteAlias = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: true),
                    CancelRequested = table.Column<bool>(type: "boolean", nullable: false),
                    BestRunId = table.Column<Guid>(type: "uuid", nullable: true),
                    BestValue = table.Column<double>(type: "double precision", nullable: true),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: true),
                    OwnerName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sweeps", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_runs_SweepId",
                schema: "training",
                table: "runs",
                column: "SweepId");

            migrationBuilder.CreateIndex(
                name: "IX_sweeps_OwnerId",
                schema: "training",
                table: "sweeps",
                column: "OwnerId");

            migrationBuilder.CreateIndex(
                name: "IX_sweeps_State",
                schema: "training",
                table: "sweeps",
                column: "State");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sweeps",
                schema: "training");

            migrationBuilder.DropIndex(
                name: "IX_runs_SweepId",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "SweepId",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "TrainedAt",
                schema: "training",
                table: "runs");
        }
    }
}
