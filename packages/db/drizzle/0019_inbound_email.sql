CREATE TABLE `inbound_addresses` (
	`conversation_id` text PRIMARY KEY NOT NULL,
	`secret_hash` text NOT NULL,
	`secret_cipher` text NOT NULL,
	`member_id` text NOT NULL,
	`enabled` integer NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbound_addresses_secret_hash_unique` ON `inbound_addresses` (`secret_hash`);