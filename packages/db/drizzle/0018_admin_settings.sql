CREATE TABLE `admin_audit` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` text NOT NULL,
	`actor_id` text NOT NULL,
	`action` text NOT NULL,
	`target_kind` text NOT NULL,
	`target_id` text NOT NULL,
	`detail` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `admin_audit_ws` ON `admin_audit` (`workspace_id`,`id`);--> statement-breakpoint
ALTER TABLE `invites` ADD `kind` text DEFAULT 'email' NOT NULL;--> statement-breakpoint
ALTER TABLE `invites` ADD `channel_ids` text;--> statement-breakpoint
ALTER TABLE `invites` ADD `uses` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `invites` ADD `created_at` integer;--> statement-breakpoint
ALTER TABLE `invites` ADD `revoked_at` integer;--> statement-breakpoint
CREATE INDEX `invites_ws` ON `invites` (`workspace_id`,`kind`);--> statement-breakpoint
ALTER TABLE `workspaces` ADD `icon` text;