"""Scraper stage: fetch, discover, extract, sections and the publisher's Amendments page."""
