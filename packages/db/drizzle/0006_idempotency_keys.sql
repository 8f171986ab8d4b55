CREATE TABLE `idempotency_keys` (
	`member_id` text NOT NULL,
	`key` text NOT NULL,
	`message_id` text NOT NULL,
	`fingerprint` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`member_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_created` ON `idempotency_keys` (`created_at`);