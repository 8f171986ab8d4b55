CREATE TABLE `file_refs` (
	`file_key` text NOT NULL,
	`ref` text NOT NULL,
	`scope` text NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`file_key`, `ref`)
);
--> statement-breakpoint
CREATE INDEX `file_refs_scope` ON `file_refs` (`scope`,`created_at`);--> statement-breakpoint
CREATE INDEX `file_refs_ref` ON `file_refs` (`ref`);--> statement-breakpoint
CREATE TABLE `files` (
	`key` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`owner` text NOT NULL,
	`sha256` text NOT NULL,
	`name` text NOT NULL,
	`content_type` text NOT NULL,
	`size` integer NOT NULL,
	`width` integer,
	`height` integer,
	`thumb_sha256` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `files_owner` ON `files` (`owner`,`created_at`);--> statement-breakpoint
CREATE INDEX `files_sha256` ON `files` (`sha256`);--> statement-breakpoint
CREATE INDEX `files_thumb` ON `files` (`thumb_sha256`);