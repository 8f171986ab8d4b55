-- Search inside one conversation or from one author: the filter moves into the FTS index. Each
-- message also indexes two scope tokens, `in<conversation>` and `by<author>` (ids without their
-- `_`, so unicode61 keeps each one token), in a second column, and the query ANDs them with the
-- words (`body : (...) AND scope : "in…"`). FTS5 merges the two posting lists, skipping by rowid,
-- instead of reading every message that has the word and dropping those outside the filter:
-- a mid-frequency word inside one of 200 conversations read ~99.5 % rows it threw away.
-- `scope` is a virtual generated column, so the external-content table has it and nothing
-- writes it. The index is rebuilt once from the content table.
ALTER TABLE `messages` ADD COLUMN `scope` text GENERATED ALWAYS AS ('in' || replace(conversation_id, '_', '') || ' by' || replace(author, '_', '')) VIRTUAL;
--> statement-breakpoint
DROP TRIGGER `messages_fts_ai`;
--> statement-breakpoint
DROP TRIGGER `messages_fts_ad`;
--> statement-breakpoint
DROP TRIGGER `messages_fts_au`;
--> statement-breakpoint
DROP TABLE `messages_fts`;
--> statement-breakpoint
CREATE VIRTUAL TABLE `messages_fts` USING fts5(body, scope, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
--> statement-breakpoint
CREATE TRIGGER `messages_fts_ai` AFTER INSERT ON `messages` BEGIN
  INSERT INTO messages_fts(rowid, body, scope) VALUES (new.rowid, new.body, new.scope);
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_ad` AFTER DELETE ON `messages` BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, body, scope) VALUES ('delete', old.rowid, old.body, old.scope);
END;
--> statement-breakpoint
-- conversation_id and author never change; the scope is re-indexed with the body all the same,
-- because FTS5's 'delete' must be given exactly what was indexed.
CREATE TRIGGER `messages_fts_au` AFTER UPDATE OF body ON `messages` BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, body, scope) VALUES ('delete', old.rowid, old.body, old.scope);
  INSERT INTO messages_fts(rowid, body, scope) VALUES (new.rowid, new.body, new.scope);
END;
--> statement-breakpoint
INSERT INTO `messages_fts`(`messages_fts`) VALUES ('rebuild');
