-- message_mentions kept in step with `messages` by a trigger, as SQLite's migration 0020 does:
-- every writer of the index keeps the mentions current. An edit that leaves mentions and
-- `deleted` alone (a reaction, a thread count) touches nothing here. Only string targets count.
CREATE FUNCTION message_mentions_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    DELETE FROM message_mentions WHERE message_id = OLD.id;
  END IF;
  IF TG_OP <> 'DELETE' AND NOT NEW.deleted THEN
    INSERT INTO message_mentions (message_id, target, conversation_id, created_at)
      SELECT NEW.id, j.value #>> '{}', NEW.conversation_id, NEW.created_at
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(NEW.mentions) = 'array' THEN NEW.mentions ELSE '[]'::jsonb END) j
      WHERE jsonb_typeof(j.value) = 'string'
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER message_mentions_ai AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION message_mentions_sync();
--> statement-breakpoint
CREATE TRIGGER message_mentions_au AFTER UPDATE OF mentions, deleted ON messages FOR EACH ROW
  WHEN (OLD.mentions IS DISTINCT FROM NEW.mentions OR OLD.deleted IS DISTINCT FROM NEW.deleted)
  EXECUTE FUNCTION message_mentions_sync();
--> statement-breakpoint
CREATE TRIGGER message_mentions_ad AFTER DELETE ON messages FOR EACH ROW EXECUTE FUNCTION message_mentions_sync();
