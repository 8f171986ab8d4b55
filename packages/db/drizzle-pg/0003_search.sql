-- Full-text search, the twin of SQLite's messages_fts / tasks_fts (FTS5, unicode61
-- remove_diacritics 2): a generated tsvector with a GIN index on messages and tasks.
-- `circlechat_search` is `simple` (lowercase, no stemming, no stop words: FTS5 has neither)
-- with unaccent in front, so case and accents fold as FTS5 folds them. unaccent is a trusted
-- contrib extension; where it is not installed search still works, folding case only.
DO $$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS unaccent;
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'unaccent is not available (%): search will fold case but not accents', SQLERRM;
  END;
  CREATE TEXT SEARCH CONFIGURATION circlechat_search (COPY = simple);
  IF EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = 'unaccent') THEN
    ALTER TEXT SEARCH CONFIGURATION circlechat_search
      ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart
      WITH unaccent, simple;
  END IF;
END
$$;
--> statement-breakpoint
-- The words of a text as FTS5 sees them: PostgreSQL's parser keeps URLs, e-mail addresses, file
-- names and decimals whole ('example.com/docs'), where FTS5 indexes each word ('example', 'com',
-- 'docs'). ASCII punctuation becomes a space first, so both index the same words. `_` is left:
-- the parser already splits at it, as FTS5 does. Immutable, so a generated column may use it.
CREATE FUNCTION search_words(text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN to_tsvector('circlechat_search'::regconfig, translate($1, '!"#$%&''()*+,-./:;<=>?@[\]^`{|}~', repeat(' ', 31)));
--> statement-breakpoint
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (search_words(body)) STORED;
--> statement-breakpoint
CREATE INDEX messages_search ON messages USING gin (search);
--> statement-breakpoint
-- Title, description and comments are FTS5's three columns: matched as one text here.
ALTER TABLE tasks ADD COLUMN search tsvector GENERATED ALWAYS AS (search_words(title) || search_words(body) || search_words(comments)) STORED;
--> statement-breakpoint
CREATE INDEX tasks_search ON tasks USING gin (search);
