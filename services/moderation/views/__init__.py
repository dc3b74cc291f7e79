"""Moderation's views, one module per page family; app.py routes to them."""
