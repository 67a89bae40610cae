-- Run once by the PostgreSQL image when its data volume is new: Rasa's tracker store has its own
-- database next to bot/'s ("bot" is created from POSTGRES_DB).
CREATE DATABASE rasa OWNER jzs;
