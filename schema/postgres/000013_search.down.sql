DELETE FROM domain_event_consumers WHERE name = 'search.index_event';
DROP TABLE event_search;
