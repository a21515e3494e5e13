using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Training.Data.Migrations
{
    /// <inheritdoc />
    public partial class RunLeasesOutboxParkingAndTraceContext : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbox_pending",
                schema: "training",
                table: "outbox_messages");

            migrationBuilder.AddColumn<int>(
                name: "Crashes",
                schema: "training",
                table: "runs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "LeaseExpiresAt",
                schema: "training",
                table: "runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LeaseOwner",
                schema: "training",
                table: "runs",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LeaseToken",
                schema: "training",
                table: "runs",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "TraceParent",
                schema: "training",
                table: "runs",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "MessageType",
                schema: "training",
                table: "outbox_messages",
                type: "character varying(512)",
                maxLength: 512,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.AddColumn<int>(
                name: "Attempts",
                schema: "training",
                table: "outbox_messages",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "LastError",
                schema: "training",
                table: "outbox_messages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "NextAttemptAt",
                schema: "training",
                table: "outbox_messages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "ParkedAt",
                schema: "training",
                table: "outbox_messages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TraceParent",
                schema: "training",
                table: "outbox_messages",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TraceState",
                schema: "training",
                table: "outbox_messages",
                type: "text",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_dispatched",
                schema: "training",
                table: "outbox_messages",
                column: "DispatchedAt",
                filter: "\"DispatchedAt\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_pending",
                schema: "training",
                table: "outbox_messages",
                column: "Id",
                filter: "\"DispatchedAt\" IS NULL AND \"ParkedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbox_dispatched",
                schema: "training",
                table: "outbox_messages");

            migrationBuilder.DropIndex(
                name: "ix_outbox_pending",
                schema: "training",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "Crashes",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "LeaseExpiresAt",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "LeaseOwner",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "LeaseToken",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "TraceParent",
                schema: "training",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "Attempts",
                schema: "training",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "LastError",
                schema: "training",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "NextAttemptAt",
                schema: "training",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "ParkedAt",
                schema: "training",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "TraceParent",
                schema: "training",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "TraceState",
                schema: "training",
                table: "outbox_messages");

            migrationBuilder.AlterColumn<string>(
                name: "MessageType",
                schema: "training",
                table: "outbox_messages",
                type: "text",
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(512)",
                oldMaxLength: 512);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_pending",
                schema: "training",
                table: "outbox_messages",
                column: "Id",
                filter: "\"DispatchedAt\" IS NULL");
        }
    }
}
