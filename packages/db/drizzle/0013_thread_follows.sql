CREATE TABLE `thread_follows` (
	`root_id` text NOT NULL,
	`member_id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`following` integer NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`root_id`, `member_id`)
);
--> statement-breakpoint
CREATE INDEX `thread_follows_member` ON `thread_follows` (`member_id`,`following`);