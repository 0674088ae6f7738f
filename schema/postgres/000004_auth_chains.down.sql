DROP TABLE event_auth_chain_reach;
DROP TABLE event_auth_chain_positions;
DROP SEQUENCE event_auth_chain_ids;
DROP TABLE event_auth_edges;
