DROP TABLE domain_event_dead_letters;
DROP TABLE domain_event_consumers;
DROP TABLE domain_event_outbox;
