using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Data.Migrations
{
    /// <inheritdoc />
    public partial class Checkpoints : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "BestCheckpointSha256",
                schema: "training",
                table: "runs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "BestCheckpointStep",
                schema: "training",
                table: "runs",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LatestCheckpointSha256",
                schema: "training",
                table: "runs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "LatestCheckpointStep",
                schema: "training",
                table: "runs",
                type: "integer",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "BestCheckpointSha256",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "BestCheckpointStep",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "LatestCheckpointSha256",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "LatestCheckpointStep",
                schema: "training",
                table: "runs");
        }
    }
}
