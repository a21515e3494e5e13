using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tokenization.Data.Migrations
{
    /// <inheritdoc />
    public partial class OutboxParkingAndTraceContext : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbox_pending",
                schema: "tokenization",
                table: "outbox_messages");

            migrationBuilder.AlterColumn<string>(
                name: "MessageType",
                schema: "tokenization",
                table: "outbox_messages",
                type: "character varying(512)",
                maxLength: 512,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.AddColumn<int>(
                name: "Attempts",
                schema: "tokenization",
                table: "outbox_messages",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "LastError",
                schema: "tokenization",
                table: "outbox_messages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "NextAttemptAt",
                schema: "tokenization",
                table: "outbox_messages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "ParkedAt",
                schema: "tokenization",
                table: "outbox_messages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TraceParent",
                schema: "tokenization",
                table: "outbox_messages",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TraceState",
                schema: "tokenization",
                table: "outbox_messages",
                type: "text",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_dispatched",
                schema: "tokenization",
                table: "outbox_messages",
                column: "DispatchedAt",
                filter: "\"DispatchedAt\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_pending",
                schema: "tokenization",
                table: "outbox_messages",
                column: "Id",
                filter: "\"DispatchedAt\" IS NULL AND \"ParkedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbox_dispatched",
                schema: "tokenization",
                table: "outbox_messages");

            migrationBuilder.DropIndex(
                name: "ix_outbox_pending",
                schema: "tokenization",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "Attempts",
                schema: "tokenization",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "LastError",
                schema: "tokenization",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "NextAttemptAt",
                schema: "tokenization",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "ParkedAt",
                schema: "tokenization",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "TraceParent",
                schema: "tokenization",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "TraceState",
                schema: "tokenization",
                table: "outbox_messages");

            migrationBuilder.AlterColumn<string>(
                name: "MessageType",
                schema: "tokenization",
                table: "outbox_messages",
                type: "text",
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(512)",
                oldMaxLength: 512);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_pending",
                schema: "tokenization",
                table: "outbox_messages",
                column: "Id",
                filter: "\"DispatchedAt\" IS NULL");
        }
    }
}
