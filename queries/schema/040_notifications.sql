-- Price changes are announced on the book_price_changes channel (see [tool.sqlgen.channels]).

CREATE TYPE book_price_change AS (
    book_id   bigint,
    title     text,
    old_price numeric(10, 2),
    new_price numeric(10, 2)
);

CREATE FUNCTION announce_book_price_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'book_price_changes',
        row_to_json(ROW(NEW.id, NEW.title, OLD.price, NEW.price)::book_price_change)::text
    );
    RETURN NULL;
END
$$;

CREATE TRIGGER books_price_changed
AFTER UPDATE OF price ON books
FOR EACH ROW WHEN (OLD.price IS DISTINCT FROM NEW.price)
EXECUTE FUNCTION announce_book_price_change();
