DROP TABLE deployment;
DROP FUNCTION stream_watermark();
DROP FUNCTION take_stream_position();
