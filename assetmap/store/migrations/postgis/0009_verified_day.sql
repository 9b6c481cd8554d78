-- Each asset's last_verified as days from 1970-01-01 (assetmap.domain.asset.verified_day),
-- NULL for never verified. A search ranks fresh listings before stale ones within each
-- distance band, and with this it reads only the listings it shows instead of every listing
-- in the bands its page touches. The migration step fills existing rows in Python, reading
-- each date as the application does.
ALTER TABLE assets ADD COLUMN verified_day INTEGER;
