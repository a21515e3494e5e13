using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Generation.Data.Migrations
{
    /// <inheritdoc />
    public partial class EncoderDecoder : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Architecture",
                schema: "generation",
                table: "servable_models",
                type: "text",
                nullable: false,
                defaultValue: "gpt");

            migrationBuilder.AddColumn<string>(
                name: "SourceTokenizerKey",
                schema: "generation",
                table: "servable_models",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Architecture",
                schema: "generation",
                table: "servable_models");

            migrationBuilder.DropColumn(
                name: "SourceTokenizerKey",
                schema: "generation",
                table: "servable_models");
        }
    }
}
