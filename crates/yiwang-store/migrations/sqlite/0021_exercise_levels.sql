-- 行使层级 (GB/T 39046): a basic-catalog item is exercised at a set of levels (县级 and 乡级 for
-- an item the county decides and the townships accept); each implementation has one level
-- within that set. The item's column now holds the set (keys joined by ';'); a single key is a
-- set of one, so existing rows stay valid. Existing implementations take their item's level.
ALTER TABLE standard_items RENAME COLUMN level TO levels;
ALTER TABLE implementations ADD COLUMN level TEXT NOT NULL DEFAULT '';
UPDATE implementations SET level = (
    SELECT s.levels FROM standard_items s WHERE s.basic_code = implementations.basic_code
);
