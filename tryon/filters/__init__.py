"""Temporal filters: the primitives (One Euro, hold-and-fade, hysteresis) and, per anchor site, the state
that smooths each site's poses through time (ears, neck, hands)."""
