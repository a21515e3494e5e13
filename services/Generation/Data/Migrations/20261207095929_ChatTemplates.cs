using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Generation.Data.Migrations
{
    /// <inheritdoc />
    public partial class ChatTemplates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ChatTemplate",
                schema: "generation",
                table: "servable_models",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ChatTemplate",
                schema: "generation",
                table: "servable_models");
        }
    }
}
