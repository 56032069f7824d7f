CREATE DATABASE dagster OWNER govhub;
