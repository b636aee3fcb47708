"""The user's journey through Home Assistant's UI, in a real browser (marker `e2e`)."""
