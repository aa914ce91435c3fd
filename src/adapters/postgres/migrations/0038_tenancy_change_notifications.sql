-- Tenants and API keys are cached in each HTTP process (docs/adr/0050-tenant-and-key-caches.md).
--
-- Every change of a tenant row or an API key row tells the other processes at commit, so that
-- their caches forget it: NOTIFY on the channel `commerce_tenancy` with the payload
-- `<schema>:<table>:<tenant id or key hash>`. These rows change rarely (settings, keys), never in
-- an event append, so the NOTIFY's commit serialisation costs nothing on the hot path.
CREATE OR REPLACE FUNCTION notify_tenancy_change() RETURNS trigger AS $$
DECLARE
    changed text;
BEGIN
    IF TG_TABLE_NAME = 'api_keys' THEN
        changed := CASE WHEN TG_OP = 'DELETE' THEN OLD.key_hash ELSE NEW.key_hash END;
    ELSE
        changed := CASE WHEN TG_OP = 'DELETE' THEN OLD.id::text ELSE NEW.id::text END;
    END IF;
    PERFORM pg_notify('commerce_tenancy', TG_TABLE_SCHEMA || ':' || TG_TABLE_NAME || ':' || changed);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION notify_tenancy_change();

CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION notify_tenancy_change();
