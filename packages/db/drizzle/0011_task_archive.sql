ALTER TABLE `tasks` ADD `archived_at` integer;--> statement-breakpoint
ALTER TABLE `tasks` ADD `archive` text;