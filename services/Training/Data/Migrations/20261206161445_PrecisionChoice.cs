using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Data.Migrations
{
    /// <inheritdoc />
    public partial class PrecisionChoice : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Precision",
                schema: "training",
                table: "runs",
                type: "character varying(8)",
                maxLength: 8,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PrecisionReason",
                schema: "training",
                table: "runs",
                type: "character varying(512)",
                maxLength: 512,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "precision_measurements",
                schema: "training",
                columns: table => new
                {
                    Machine = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Shape = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Fp32Millis = table.Column<double>(type: "double precision", nullable: false),
                    Bf16Millis = table.Column<double>(type: "double precision", nullable: false),
                    StepsEach = table.Column<int>(type: "integer", nullable: false),
                    MeasuredAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RunId = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_precision_measurements", x => new { x.Machine, x.Shape });
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "precision_measurements",
                schema: "training");

            migrationBuilder.DropColumn(
                name: "Precision",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "PrecisionReason",
                schema: "training",
                table: "runs");
        }
    }
}
