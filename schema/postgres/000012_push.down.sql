DROP TABLE push_deliveries;
DROP TABLE pushers;
DROP TABLE event_push_actions;
