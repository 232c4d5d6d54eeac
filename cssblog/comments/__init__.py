"""Readers' comments: storage, moderation, de-duplication, threading and publishing."""
