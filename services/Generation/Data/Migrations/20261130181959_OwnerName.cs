using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Generation.Data.Migrations
{
    /// <inheritdoc />
    public partial class OwnerName : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "OwnerName",
                schema: "generation",
                table: "servable_models",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "OwnerName",
                schema: "generation",
                table: "servable_models");
        }
    }
}
