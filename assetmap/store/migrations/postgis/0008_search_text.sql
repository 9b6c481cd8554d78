-- Each asset's folded name and description (assetmap.domain.text.search_text), so a text
-- search is answered in SQL instead of reading every asset in the radius. NULL means not yet
-- folded: such a row is always a candidate and the search checks its words in Python. The
-- migration step fills existing rows in Python, as SQL cannot fold accents the same way.
ALTER TABLE assets ADD COLUMN search_text TEXT;
