CREATE TABLE `pins` (
	`message_id` text PRIMARY KEY NOT NULL,
	`conversation_id` text NOT NULL,
	`pinned_by` text NOT NULL,
	`pinned_at` integer NOT NULL,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `pins_conversation` ON `pins` (`conversation_id`,`pinned_at`);--> statement-breakpoint
ALTER TABLE `conversations` ADD `description` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `conversations` ADD `archived_at` integer;