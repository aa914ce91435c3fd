-- Tenant settings changes are events (docs/adr/0024-tenant-settings-changes-are-events.md).
--
-- The `settings` document stays what the hot path reads; `settings_version` is the version of
-- the tenant's settings stream its admin fields were last written from, so that a late write
-- never replaces a newer one. 0: the admin fields were never changed through the stream.
ALTER TABLE tenants ADD COLUMN settings_version integer NOT NULL DEFAULT 0;
