using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Registry.Data.Migrations
{
    /// <inheritdoc />
    public partial class ChatTemplates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ChatTemplate",
                schema: "registry",
                table: "registration_candidates",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ChatTemplate",
                schema: "registry",
                table: "model_versions",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ChatTemplate",
                schema: "registry",
                table: "registration_candidates");

            migrationBuilder.DropColumn(
                name: "ChatTemplate",
                schema: "registry",
                table: "model_versions");
        }
    }
}
