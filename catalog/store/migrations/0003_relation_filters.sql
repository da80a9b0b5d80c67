-- relations.<type>=<ref> filters look relations up by type and target.
CREATE INDEX relations_type_target ON relations (lower(type), target_ref);
