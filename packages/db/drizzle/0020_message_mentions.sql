CREATE TABLE `message_mentions` (
	`message_id` text NOT NULL,
	`target` text NOT NULL,
	`conversation_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`message_id`, `target`)
);
--> statement-breakpoint
CREATE INDEX `message_mentions_target_time` ON `message_mentions` (`target`,`created_at`);--> statement-breakpoint
-- Kept in step with `messages` by triggers, as messages_fts is (0001): every writer of the index
-- keeps the mentions current. An edit that leaves mentions and `deleted` alone (a reaction, a
-- thread count) touches nothing here.
CREATE TRIGGER `message_mentions_ai` AFTER INSERT ON `messages` WHEN new.deleted = 0 BEGIN
  INSERT OR IGNORE INTO message_mentions(message_id, target, conversation_id, created_at)
    SELECT new.id, j.value, new.conversation_id, new.created_at FROM json_each(new.mentions) j WHERE j.type = 'text';
END;
--> statement-breakpoint
CREATE TRIGGER `message_mentions_au` AFTER UPDATE OF mentions, deleted ON `messages`
  WHEN old.mentions IS NOT new.mentions OR old.deleted IS NOT new.deleted BEGIN
  DELETE FROM message_mentions WHERE message_id = old.id;
  INSERT OR IGNORE INTO message_mentions(message_id, target, conversation_id, created_at)
    SELECT new.id, j.value, new.conversation_id, new.created_at FROM json_each(new.mentions) j WHERE j.type = 'text' AND new.deleted = 0;
END;
--> statement-breakpoint
CREATE TRIGGER `message_mentions_ad` AFTER DELETE ON `messages` BEGIN
  DELETE FROM message_mentions WHERE message_id = old.id;
END;
--> statement-breakpoint
-- The mentions already in the index.
INSERT OR IGNORE INTO message_mentions(message_id, target, conversation_id, created_at)
  SELECT m.id, j.value, m.conversation_id, m.created_at FROM messages m, json_each(m.mentions) j WHERE m.deleted = 0 AND j.type = 'text';
