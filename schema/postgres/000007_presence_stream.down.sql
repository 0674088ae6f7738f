DROP INDEX presence_stream;
