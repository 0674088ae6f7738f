DROP TABLE signature_changes;
