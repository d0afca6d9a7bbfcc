-- A book's tags never hold NULL: sqlgen reads this CHECK and types tags as list[str].
ALTER TABLE books ADD CONSTRAINT tags_without_null CHECK (array_position(tags, NULL) IS NULL);
