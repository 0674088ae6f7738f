DROP TABLE to_device_txns;
DROP TABLE to_device_messages;
DROP TABLE device_list_changes;
DROP TABLE e2e_signatures;
DROP TABLE e2e_cross_signing_keys;
DROP TABLE e2e_fallback_keys;
DROP TABLE e2e_one_time_keys;
DROP TABLE e2e_device_keys;
