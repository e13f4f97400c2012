DROP TABLE messages;
DROP TABLE uploads;
DROP TABLE rooms;
DROP TABLE sessions;
DROP TABLE users;
