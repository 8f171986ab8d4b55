ALTER TABLE `approvals` ADD `executed_at` integer;--> statement-breakpoint
ALTER TABLE `approvals` ADD `result` text;